"""Giving roles a permission in a migration: the one way the apps' migrations do it.

A migration that adds a permission to roles (groups) runs before Django has created the
permission (it does that after all migrations), so the permission is created first, with the
migration's historical models. Only the historical `apps` is used: no model of ours is
imported, so a later change to the models cannot break an old migration.
"""

from collections.abc import Callable, Sequence

from django.contrib.auth.management import create_permissions
from django.db import migrations


def permission_granted(permission: tuple[str, str], roles: Sequence[str]) -> migrations.RunPython:
    """RunPython that gives `roles` the permission `(app_label, codename)`; reversed, takes it
    back."""
    return migrations.RunPython(
        _for_roles(permission, roles, "add"), _for_roles(permission, roles, "remove")
    )


def _for_roles(permission: tuple[str, str], roles: Sequence[str], how: str) -> Callable:
    def run(apps, schema_editor) -> None:
        found = _permission(apps, *permission)
        for group in apps.get_model("auth", "Group").objects.filter(name__in=roles):
            getattr(group.permissions, how)(found)

    return run


def _permission(apps, app_label: str, codename: str):
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    return apps.get_model("auth", "Permission").objects.get(
        content_type__app_label=app_label, codename=codename
    )
