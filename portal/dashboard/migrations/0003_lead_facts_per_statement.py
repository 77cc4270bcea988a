from django.db import migrations

from portal.dashboard.facts import facts_install, facts_uninstall


def reinstall(apps, schema_editor):
    """The facts' triggers on new lead events and lead updates once per statement."""
    facts_uninstall(schema_editor)
    facts_install(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("dashboard", "0002_lead_facts")]

    operations = [migrations.RunPython(reinstall, reinstall)]
