from django.db import migrations

from portal.accounts.grants import permission_granted

# The marketing manager makes and revokes the account-wide HubSpot tokens; the Admin role may too.
MANAGERS = ["Marketing manager", "Admin"]
PERMISSION = ("capture", "manage_hubspot_tokens")


class Migration(migrations.Migration):
    dependencies = [
        ("capture", "0013_compatible_ids_aliases_account_tokens"),
        ("accounts", "0002_roles"),
    ]

    operations = [permission_granted(PERMISSION, MANAGERS)]
