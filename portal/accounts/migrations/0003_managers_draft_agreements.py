from django.db import migrations

from portal.accounts.grants import permission_granted

# Both managers write the agreement they sign; the Admin role keeps drafting as it did.
DRAFTERS = ["Marketing manager", "Sales manager", "Admin"]
PERMISSION = ("scoring", "draft_agreement")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("scoring", "0003_agreement_proposal_and_comments"),
    ]

    operations = [permission_granted(PERMISSION, DRAFTERS)]
