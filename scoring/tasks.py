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
from scoring.clocks import clocks_recount_batch, clocks_recount_run_create
from scoring.models import Agreement
from scoring.rescore import rescore_chunks, rescore_run_create

logger = logging.getLogger(__name__)

# One task works chunk after chunk for this long, then queues its sequel: well inside the
# soft time limit, and the chunk's transaction makes a killed task lose at most one chunk.
BUDGET_SECONDS = max(5, settings.CELERY_TASK_SOFT_TIME_LIMIT // 3)


def rescore_after_activation(*, agreement: Agreement) -> None:
    """Called in the transaction that activates `agreement`: the progress rows of its
    re-scoring and of the clocks' recount now, the work once that commits."""
    run = rescore_run_create(agreement=agreement)
    recount = clocks_recount_run_create(why=f"v{agreement.version} became active")
    transaction.on_commit(lambda: _publish(run.pk))
    transaction.on_commit(lambda: _publish_recount(recount.pk))


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


def recount_after_queue_change(sender, queue_id: int, queue_name: str = "", **kwargs) -> None:
    """A queue's working hours or reminder share changed (sent in the transaction that
    saved it): the progress row of its clocks' recount now, the recount once that commits."""
    why = f"the working hours or reminder share of queue {queue_name or queue_id} changed"
    recount = clocks_recount_run_create(why=why, queue_id=queue_id)
    transaction.on_commit(lambda: _publish_recount(recount.pk))


def _publish_recount(run_id: int) -> None:
    try:
        recount_clocks.apply_async((run_id,), retry=False)
    except BrokerError as error:
        logger.warning("Could not queue the clocks' recount run %s: %s", run_id, error)


@shared_task(name="scoring.recount_clocks", **BULK, **RETRY)
def recount_clocks(run_id: int) -> None:
    """The run's running clocks counted again from where they started, under the service
    levels active now in their queue's working hours, a batch at a time; the sequel queued
    once the budget is spent."""
    until = time.monotonic() + BUDGET_SECONDS
    while clocks_recount_batch(run_id=run_id, size=CLOCK_BATCH):
        if time.monotonic() > until:
            _publish_recount(run_id)
            return
