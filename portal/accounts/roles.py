"""The five roles, as Django groups.

The groups and their permissions are created by migrations (accounts 0002); code checks
permissions, never group names, so an admin can compose a custom role from the same ones.
"""

from enum import StrEnum


class Role(StrEnum):
    MARKETER = "Marketer"
    MARKETING_MANAGER = "Marketing manager"
    SALES_REP = "Sales rep"
    SALES_MANAGER = "Sales manager"
    ADMIN = "Admin"
