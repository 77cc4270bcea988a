"""The options every task declares, in one place (house rule 5): its queue, late
acknowledgement, time limits, and retries with backoff on a lost database.

`acks_late` + `reject_on_worker_lost`: a worker killed mid-task leaves the message to another
one after the broker's visibility timeout (settings); the task's claim or its transaction
makes the second run harmless.
"""

from django.conf import settings
from django.db import OperationalError

_COMMON = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}
# Latency-critical: its own queue, so bulk work never delays a new lead.
HANDOFF = {"queue": settings.CELERY_HANDOFF_QUEUE, **_COMMON}
# Imports, re-scoring, exports: their own queue and worker.
BULK = {"queue": settings.CELERY_BULK_QUEUE, **_COMMON}
RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}
# Notification e-mails: their own queue (the bulk one unless CELERY_NOTIFY_QUEUE says),
# never the handoff's.
NOTIFY = {"queue": settings.CELERY_NOTIFY_QUEUE, **_COMMON}
