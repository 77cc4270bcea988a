"""Scoring's background work, on the bulk queue: re-scoring the open leads after a version
becomes active. Declared like the handoff's tasks (leads/handoff/tasks.py), on the queue
that never delays a new lead."""

import logging
import time
from contextlib import contextmanager

from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from kombu.exceptions import OperationalError as BrokerError

from portal.task_options import BULK, RETRY
from scoring.clocks import clocks_recount_batch, clocks_recount_run_create
from scoring.models import Agreement
from scoring.progress import RescoreRun
from scoring.rescore import rescore_chunks, rescore_run_create
from scoring.resume import run_error_record, runs_resume_claim

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
    with _errors_kept(run_id):
        more = rescore_chunks(run_id=run_id, until=time.monotonic() + BUDGET_SECONDS)
    if more:
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
    more = True
    with _errors_kept(run_id):
        while more and time.monotonic() <= until:
            more = clocks_recount_batch(run_id=run_id, size=CLOCK_BATCH)
    if more:
        _publish_recount(run_id)


def runs_resend() -> None:
    """Send again the runs whose message was lost (scoring/resume.py). Beat runs it on the
    handoff's queue (`leads.handoff.tasks.resume_stalled_runs`): one small query a minute, and
    a bulk worker that is down shows as a run given up with the reason instead of a bar that
    never ends."""
    for run in runs_resume_claim():
        logger.info("Run %s (%s) did not move: sent again.", run.run_id, run.kind)
        if run.kind == RescoreRun.Kind.CLOCKS:
            _publish_recount(run.run_id)
        else:
            _publish(run.run_id)


@contextmanager
def _errors_kept(run_id: int):
    """A run's task that raises keeps what it raised on the run, for the sweeper's reason
    should the run be given up; a lost database is retried and says nothing."""
    try:
        yield
    except OperationalError:
        raise
    except Exception as error:
        run_error_record(run_id=run_id, error=error)
        raise
