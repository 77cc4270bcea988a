from django.db import models
from django.utils import timezone


class BaselineRow(models.Model):
    """One row per baseline request: the least a Django view that stores a post can do.

    The app has no migrations on purpose; `migrate --run-syncdb` creates the table in the
    benchmark's own database.
    """

    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.email
