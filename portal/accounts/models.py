from django.contrib.auth.models import AbstractUser

from portal.accounts.roles import Role


class User(AbstractUser):
    """A LeadBridge user; what they may do comes from their role (a Django group)."""

    def has_role(self, role: Role) -> bool:
        return self.groups.filter(name=role.value).exists()

    def __str__(self) -> str:
        return self.get_full_name() or self.username
