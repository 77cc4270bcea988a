"""Scoring's background work, on the bulk queue: re-scoring the open leads after a version
becomes active. Declared like the handoff's tasks (leads/handoff/tasks.py), on the queue
that never delays a new lead."""

import logging
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from portal.task_options import BULK, RETRY
from scoring.clocks import clocks_recount_batch
from scoring.models import Agreement
from scoring.rescore import rescore_chunks, rescore_run_create

logger = logging.getLogger(__name__)

# One task works chunk after chunk for this long, then queues its sequel: well inside the
# soft time limit, and the chunk's transaction makes a killed task lose at most one chunk.
BUDGET_SECONDS = max(5, settings.CELERY_TASK_SOFT_TIME_LIMIT // 3)


def rescore_after_activation(*, agreement: Agreement) -> None:
    """Called in the transaction that activates `agreement`: its progress row now, the
    re-scoring once that commits."""
    run = rescore_run_create(agreement=agreement)
    transaction.on_commit(lambda: _publish(run.pk))
    transaction.on_commit(lambda: _publish_recount(0))


def _publish(run_id: int) -> None:
    try:
        rescore_open_leads.apply_async((run_id,), retry=False)
    except BrokerError as error:
        logger.warning("Could not queue the re-scoring run %s: %s", run_id, error)


@shared_task(name="scoring.rescore_open_leads", **BULK, **RETRY)
def rescore_open_leads(run_id: int) -> None:
    if rescore_chunks(run_id=run_id, until=time.monotonic() + BUDGET_SECONDS):
        _publish(run_id)


# Running clocks counted again under the new service levels, this many leads per UPDATE.
CLOCK_BATCH = 2000


def recount_after_queue_change(sender, queue_id: int, **kwargs) -> None:
    """A queue's working hours or reminder share changed (sent in the transaction that
    saved it): its running clocks are counted again once that commits."""
    transaction.on_commit(lambda: _publish_recount(0, queue_id))


def _publish_recount(after: int, queue_id: int | None = None) -> None:
    try:
        recount_clocks.apply_async((after, queue_id), retry=False)
    except BrokerError as error:
        logger.warning("Could not queue the clocks' recount after lead %s: %s", after, error)


@shared_task(name="scoring.recount_clocks", **BULK, **RETRY)
def recount_clocks(after: int = 0, queue_id: int | None = None) -> None:
    """Every running clock (of one queue, or all) counted again from where it started, under
    the service levels active now in its queue's working hours, a batch after lead `after`
    at a time."""
    until = time.monotonic() + BUDGET_SECONDS
    while (
        last := clocks_recount_batch(after=after, size=CLOCK_BATCH, queue_id=queue_id)
    ) is not None:
        after = last
        if time.monotonic() > until:
            _publish_recount(after, queue_id)
            return
