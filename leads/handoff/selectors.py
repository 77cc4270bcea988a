from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min

from leads.models import Lead, Stage, Submission


@dataclass(frozen=True)
class Backlog:
    count: int
    oldest: datetime | None

    def oldest_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest is None else now - self.oldest


def unscored_backlog() -> Backlog:
    """Submissions whose scoring step is still open (partial index: pending rows only)."""
    row = Submission.objects.filter(qualify_due_at__isnull=False).aggregate(
        count=Count("pk"), oldest=Min("received_at")
    )
    return Backlog(**row)


def unrouted_backlog() -> Backlog:
    """Qualified leads not yet given to a rep (partial index: qualified leads only)."""
    row = Lead.objects.filter(stage=Stage.QUALIFIED).aggregate(
        count=Count("pk"), oldest=Min("stage_changed_at")
    )
    return Backlog(**row)
