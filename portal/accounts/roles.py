"""The five roles, as Django groups.

The groups and their permissions are created by migrations (accounts 0002); code checks
permissions, never group names, so an admin can compose a custom role from the same ones.
"""

from enum import StrEnum

from django.contrib.auth import get_user_model
from django.db.models import Q


class Role(StrEnum):
    MARKETER = "Marketer"
    MARKETING_MANAGER = "Marketing manager"
    SALES_REP = "Sales rep"
    SALES_MANAGER = "Sales manager"
    ADMIN = "Admin"


def role_grants(user, permission: str) -> bool:
    """Whether one of `user`'s roles (groups) gives them `permission` ("app_label.codename").

    Unlike `has_perm`, being a superuser is not enough: some acts belong to a role itself,
    such as signing an agreement for a side, which only that side's manager does.
    """
    if not user.is_active:
        return False
    app_label, codename = permission.split(".")
    return user.groups.filter(
        permissions__content_type__app_label=app_label, permissions__codename=codename
    ).exists()


def role_holders(*permissions: str):
    """Active users one of whose roles gives them one of `permissions` ("app_label.codename");
    as `role_grants`, a superuser's rights alone do not count."""
    wanted = Q()
    for permission in permissions:
        app_label, codename = permission.split(".")
        wanted |= Q(
            groups__permissions__content_type__app_label=app_label,
            groups__permissions__codename=codename,
        )
    return get_user_model().objects.filter(wanted, is_active=True).distinct()
