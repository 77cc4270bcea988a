from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from leads.models import Lead, Stage, Submission


def unfinished_work(*, older_than: timedelta | None = None) -> tuple[list[int], list[int]]:
    """Submissions never scored and qualified leads never routed: their message was lost."""
    older_than = older_than or timedelta(seconds=settings.LEADBRIDGE_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    unscored = Submission.objects.filter(qualification__isnull=True, received_at__lt=cutoff)
    unrouted = Lead.objects.filter(stage=Stage.QUALIFIED, stage_changed_at__lt=cutoff)
    return (
        list(unscored.values_list("pk", flat=True)[:1000]),
        list(unrouted.values_list("pk", flat=True)[:1000]),
    )
