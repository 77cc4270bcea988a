from django.db import migrations

from portal.accounts.grants import permission_granted

# Both sides' managers (and an admin) register endpoints, test them and read their logs.
# Marketers and reps do not: an endpoint carries every lead's details out of LeadBridge, and
# its page shows the signing secret.
WEBHOOK_MANAGERS = ["Sales manager", "Marketing manager", "Admin"]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_reps_see_dashboard"),
        ("webhooks", "0001_initial"),
    ]

    operations = [
        permission_granted(("webhooks", codename), WEBHOOK_MANAGERS)
        for codename in ("view_endpoint", "add_endpoint", "change_endpoint")
    ]
