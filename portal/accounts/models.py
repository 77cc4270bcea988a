from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A LeadBridge user; what they may do comes from their role (a Django group)."""

    def __str__(self) -> str:
        return self.get_full_name() or self.username
