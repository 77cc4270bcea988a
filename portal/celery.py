import gc
import logging
import os
import time

from celery import Celery
from celery.signals import (
    beat_init,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)
from django.db import DatabaseError, close_old_connections
from django.urls import get_resolver

from portal import kombu_fix

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("leadbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    [
        "leads.capture.imports",
        "leads.routing",
        "scoring",
        "portal.notifications",
        "portal.dashboard",
    ]
)
kombu_fix.install()  # a worker survives losing Redis with a message unacknowledged (issue 18)

# The broker options in settings are the web's: one publish that gives up within ~50 ms.
# A worker (and beat) must wait for Redis instead: with a 50 ms socket timeout, a worker
# whose acknowledgement timed out while Redis stalled never asked for another message
# (bench/faults.py; tests/leads/handoff/test_redis_faults.py). No timeout at all (kombu's
# default) left a restarted worker idle after a SIGKILL in 2 of 3 runs
# (tests/leads/handoff/test_worker_killed.py); seconds, not milliseconds, pass both.
WAITING_FOR_REDIS = {"socket_connect_timeout": 5, "socket_timeout": 10}
CONNECT_TIMEOUT = 4  # Celery's default


@worker_init.connect
@beat_init.connect
def wait_for_the_broker(sender, **kwargs) -> None:
    conf = sender.app.conf
    options = {**conf.broker_transport_options}
    options.pop("max_retries", None)
    conf.broker_transport_options = {**options, **WAITING_FOR_REDIS}
    conf.broker_connection_timeout = CONNECT_TIMEOUT


@worker_init.connect
@worker_process_init.connect
def freeze_what_the_worker_loaded(**kwargs) -> None:
    """What Django and the apps made at start-up is never garbage: moved out of the cycle
    collector's reach (`gc.freeze`, again in each pool process), a full collection walks only
    what the tasks made since. Without it the collector took a third of the escalation step's
    CPU (bench/sla.py: 2.49 s of the process's CPU for 10,000 due leads, 1.61 s without it),
    its batches' thousands of objects setting off full sweeps of the whole heap.

    The URL patterns are loaded first: a task that links to a page (a notification's lead
    address) otherwise imported every view module on its first `reverse`, 0.6 s of CPU in
    the first escalation batch (a quarter of its Python, py-spy, bench/sla.py), and those
    modules' objects were left to the collector."""
    get_resolver().reverse_dict  # noqa: B018 - imports the URL modules and builds the index
    gc.freeze()


@task_prerun.connect
@task_postrun.connect
def drop_broken_connections(sender=None, **kwargs) -> None:
    """What Django does around a request, around a task: the worker keeps its connection
    (CELERY_DB_REUSE_MAX), but one that broke (PostgreSQL restarted) or grew too old
    (CONN_MAX_AGE) is closed, so the next task opens a fresh one instead of failing.

    Not for a task run in-process (eager): it runs inside its caller's transaction.
    """
    if sender is not None and not getattr(sender.request, "is_eager", False):
        close_old_connections()


# A worker process notes itself at most this often per queue (one upsert): plenty for
# WORKER_SEEN_WITHIN_SECONDS (minutes), nothing beside a handoff run (~16 ms).
HEARTBEAT_SECONDS = 10
_noted_at: dict[str, float] = {}


@task_prerun.connect
def note_the_worker(sender=None, **kwargs) -> None:
    """Leave the heartbeat /healthz/ and `pipeline_status` read (portal/health): this worker
    took a task from this queue. Beat sends one to each queue every sweep, so a silent queue
    means no worker (or no beat) works it. After `drop_broken_connections`, which is
    connected first and so runs first."""
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    queue = sender.queue or sender.app.conf.task_default_queue
    now = time.monotonic()
    if now - _noted_at.get(queue, float("-inf")) < HEARTBEAT_SECONDS:
        return
    from portal.health.heartbeats import worker_seen  # the apps are ready in a worker

    try:
        worker_seen(queue=queue, worker=sender.request.hostname or "")
    except DatabaseError as error:  # the task will say so too; the heartbeat waits
        logger.warning("Could not note the worker's heartbeat: %s", error)
        return
    _noted_at[queue] = now
