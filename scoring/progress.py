"""The progress of re-scoring the open leads after a version becomes active."""

from django.db import models
from django.utils import timezone


class RescoreRun(models.Model):
    """One re-scoring of the open leads not yet routed, by a version that became active.

    The task works through the leads in primary-key order; `cursor` is the last lead done,
    so a task that died is resumed where it stopped, and no lead is judged twice by one run.
    """

    agreement = models.ForeignKey("scoring.Agreement", on_delete=models.CASCADE, related_name="+")
    total = models.PositiveIntegerField(default=0, help_text="Open leads when it started.")
    done = models.PositiveIntegerField(default=0)
    qualified = models.PositiveIntegerField(
        default=0, help_text="Leads the new version qualified: handed on to routing."
    )
    cursor = models.BigIntegerField(default=0, help_text="The last lead re-scored.")
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"Re-scoring by {self.agreement}: {self.done} of {self.total}"

    @property
    def percent(self) -> int:
        if self.finished_at is not None or not self.total:
            return 100
        return min(99, self.done * 100 // self.total)
