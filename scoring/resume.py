"""Beat's sweeper behind the bulk runs' messages (a re-scoring, a clocks' recount): a run that
has not moved for `LEADBRIDGE_RUN_RESUME_AFTER_SECONDS` is presumed to have lost its message
(the worker was killed, Redis restarted, the publish failed) and is sent again; it resumes
from its `cursor`, so nothing done is done again. Sent again `LEADBRIDGE_RUN_RESUME_ATTEMPTS`
times without moving, it stops unfinished with the reason, for the manager to see.

"Moved" is `updated_at`, which every chunk sets when it moves the cursor; a send is
`resumed_at`. A run is stalled when neither is recent. `resumes` counts the sends since it
last moved: a run that moved after being sent again starts counting afresh.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from scoring.progress import RescoreRun


@dataclass(frozen=True)
class Resumed:
    run_id: int
    kind: str


def runs_resume_claim(*, limit: int = 50) -> list[Resumed]:
    """Claim the stalled runs: each is either marked sent again (returned, to be sent once
    this commits) or, out of attempts, failed with the reason. Runs a task is working hold
    their row lock and are skipped."""
    now = timezone.now()
    stalled_for = settings.LEADBRIDGE_RUN_RESUME_AFTER_SECONDS
    before = now - timedelta(seconds=stalled_for)
    resumed = []
    with transaction.atomic():
        runs = list(
            RescoreRun.objects.filter(finished_at=None, updated_at__lt=before)
            .exclude(resumed_at__gte=before)
            .order_by("pk")
            .select_for_update(skip_locked=True)[:limit]
        )
        for run in runs:
            if run.resumed_at is not None and run.updated_at > run.resumed_at:
                run.resumes = 0  # it moved since it was last sent again
            if run.resumes >= settings.LEADBRIDGE_RUN_RESUME_ATTEMPTS:
                run.failure = _failure(run, stalled_for)[:400]
                run.finished_at = now
                run.save(update_fields=["failure", "finished_at", "resumes"])
                continue
            run.resumes += 1
            run.resumed_at = now
            run.save(update_fields=["resumes", "resumed_at"])
            resumed.append(Resumed(run.pk, run.kind))
    return resumed


def run_error_record(*, run_id: int, error: BaseException) -> None:
    """What a run's task raised, kept for the reason should the run be given up."""
    text = f"{type(error).__name__}: {error}"[:300]
    RescoreRun.objects.filter(pk=run_id).update(error=text)


def _failure(run: RescoreRun, stalled_for: int) -> str:
    minutes = max(1, stalled_for // 60)
    sent = f"sent again {run.resumes} time{'' if run.resumes == 1 else 's'}"
    why = (
        f"its task failed with {run.error}"
        if run.error
        else "no worker took it: check that the bulk worker runs"
    )
    return (
        f"it did not move for {minutes} minutes after it was {sent}; {why}. "
        "Leads done so far keep what the run gave them."
    )
