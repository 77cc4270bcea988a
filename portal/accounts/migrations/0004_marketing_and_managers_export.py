from django.contrib.auth.management import create_permissions
from django.db import migrations

# Marketing and both managers export leads and submissions as CSV; a rep works leads in the
# portal and does not take the list away. Admin keeps every reading permission it has.
EXPORTERS = ["Marketer", "Marketing manager", "Sales manager", "Admin"]
PERMISSION = ("leads", "export_leads")


def _permission(apps):
    # Permissions are normally created after all migrations; the groups need this one now.
    app_config = apps.get_app_config("leads")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = PERMISSION
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=EXPORTERS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=EXPORTERS):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_managers_draft_agreements"),
        ("leads", "0006_repeat_submission_notice_and_export"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
