from django.contrib.auth.management import create_permissions
from django.db import migrations

# The marketing manager imports a company's leads and their history; the Admin role may too.
IMPORTERS = ["Marketing manager", "Admin"]
PERMISSION = ("capture", "import_leads")


def _permission(apps):
    # Permissions are normally created after all migrations; the groups need this one now.
    app_config = apps.get_app_config("capture")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = PERMISSION
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=IMPORTERS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=IMPORTERS):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("capture", "0009_lead_imports"),
        ("accounts", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
