"""Beat's handoff review: on the managers' weekday and time, every other week, the review of
the two weeks ending yesterday is frozen (and both teams are told, e-mails queued after the
commit). On the bulk queue: it reads every panel and judges the period's decided leads again."""

import logging

from celery import shared_task

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
