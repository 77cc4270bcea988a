"""Beat's handoff review: on the managers' weekday and time, every other week, the review of
the two weeks ending yesterday is frozen (and both teams are told, e-mails queued after the
commit). On the bulk queue: it reads every panel and judges the period's decided leads again.

Beat's facts sweep: every FACTS_FOLD_EVERY_SECONDS the leads marked since by web actions and
imports (the handoff worker folds its own batches' marks) are recounted (`facts.facts_fold`)."""

import logging
import time

from celery import shared_task

from portal.dashboard.facts import FOLD_LIMIT, facts_fold
from portal.dashboard.services import SCHEDULE_TASK, review_scheduled_freeze
from portal.task_options import BULK, RETRY

logger = logging.getLogger(__name__)


@shared_task(name=SCHEDULE_TASK, **BULK, **RETRY)
def freeze_review() -> int | None:
    """Idempotent: a review is made once per period (`review_freeze`), and only when due."""
    review = review_scheduled_freeze()
    if review is None:
        logger.info("No handoff review due this week: the last one is under two weeks old.")
        return None
    logger.info("%s frozen.", review)
    return review.pk


# Well inside the soft time limit; beat's next run takes the rest.
FOLD_BUDGET_SECONDS = 20


@shared_task(name="dashboard.fold_facts", **BULK, **RETRY)
def fold_facts() -> int:
    """Fold the marked leads, a batch at a time, until none are left, the budget is spent, or
    another fold runs (it, or the next run, takes the rest). The number of leads folded."""
    stop_at = time.monotonic() + FOLD_BUDGET_SECONDS
    folded = 0
    while True:
        done = facts_fold(wait=False)
        folded += done or 0
        if done != FOLD_LIMIT or time.monotonic() >= stop_at:
            return folded
