from django.db import migrations

from portal.accounts.grants import permission_granted

# Marketing and both managers export leads and submissions as CSV; a rep works leads in the
# portal and does not take the list away. Admin keeps every reading permission it has.
EXPORTERS = ["Marketer", "Marketing manager", "Sales manager", "Admin"]
PERMISSION = ("leads", "export_leads")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_managers_draft_agreements"),
        ("leads", "0006_repeat_submission_notice_and_export"),
    ]

    operations = [permission_granted(PERMISSION, EXPORTERS)]
