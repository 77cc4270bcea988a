from django.contrib.auth.management import create_permissions
from django.db import migrations

# Both managers write the agreement they sign; the Admin role keeps drafting as it did.
DRAFTERS = ["Marketing manager", "Sales manager", "Admin"]
PERMISSION = ("scoring", "draft_agreement")


def _permission(apps):
    # Permissions are normally created after all migrations; the groups need this one now.
    app_config = apps.get_app_config("scoring")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    app_label, codename = PERMISSION
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=DRAFTERS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission = _permission(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=DRAFTERS):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("scoring", "0003_agreement_proposal_and_comments"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
