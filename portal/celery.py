import os

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("leadbridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    ["leads.capture.imports", "leads.routing", "scoring", "portal.notifications"]
)

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
