# Marketing reviews the spam quarantine: the two marketing roles and the Admin role may read it
# (view) and release or discard posts (change). Reps and the sales manager never see it.

from django.contrib.auth.management import create_permissions
from django.db import migrations

REVIEWERS = ["Marketer", "Marketing manager", "Admin"]
CODENAMES = ["view_quarantinedpost", "change_quarantinedpost"]


def _permissions(apps):
    # Permissions are normally created after all migrations; the groups need these now.
    app_config = apps.get_app_config("capture")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return list(
        Permission.objects.filter(content_type__app_label="capture", codename__in=CODENAMES)
    )


def grant(apps, schema_editor):
    permissions = _permissions(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=REVIEWERS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    permissions = _permissions(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=REVIEWERS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("capture", "0007_stop_phrases_and_quarantine"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
