from django.db import migrations

from portal.accounts.grants import permission_granted

# The marketing manager imports a company's leads and their history; the Admin role may too.
IMPORTERS = ["Marketing manager", "Admin"]
PERMISSION = ("capture", "import_leads")


class Migration(migrations.Migration):
    dependencies = [
        ("capture", "0009_lead_imports"),
        ("accounts", "0002_roles"),
    ]

    operations = [permission_granted(PERMISSION, IMPORTERS)]
