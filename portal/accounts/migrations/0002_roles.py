from django.contrib.auth.management import create_permissions
from django.db import migrations

_SEE_FUNNEL = ["leads.view_dashboard", "leads.view_all_leads", "capture.view_form"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Marketer": [*_SEE_FUNNEL, "capture.add_form", "capture.change_form"],
    "Marketing manager": [
        *_SEE_FUNNEL,
        "capture.add_form",
        "capture.change_form",
        "scoring.view_agreement",
        "scoring.sign_for_marketing",
    ],
    "Sales rep": ["leads.work_lead"],
    "Sales manager": [
        *_SEE_FUNNEL,
        "leads.work_lead",
        "leads.reassign_lead",
        "routing.view_queue",
        "routing.change_queue",
        "scoring.view_agreement",
        "scoring.sign_for_sales",
    ],
    "Admin": [
        *_SEE_FUNNEL,
        "leads.reassign_lead",
        "capture.add_form",
        "capture.change_form",
        "routing.view_queue",
        "routing.change_queue",
        "scoring.view_agreement",
        "scoring.add_agreement",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for name in names:
            app_label, codename = name.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("leads", "0002_initial"),
        ("capture", "0001_initial"),
        ("routing", "0001_initial"),
        ("scoring", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
