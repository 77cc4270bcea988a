"""Publishing handoff messages: best effort, never in the way of a request.

The stored row is the outbox (`Submission.qualify_due_at`, `Lead.route_due_at`): a message
only wakes a worker sooner than beat would. So a publish is tried once, after the commit,
and gives up within the broker timeout (~50 ms, `BROKER_TIMEOUT`); a failure is logged and
the work waits for beat's next `hand_off`. Every handoff message goes out through here;
nothing on the request path calls `.delay()` itself.
"""

import logging

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def publish(task: Task, *args) -> bool:
    """Send one message now; False (logged) when the broker does not take it in time."""
    try:
        task.apply_async(args, retry=False)
    except BrokerError as error:
        logger.warning("Could not queue %s%r, beat's next run will: %s", task.name, args, error)
        return False
    return True


def enqueue_on_commit(task: Task, *args) -> None:
    """Publish after the current transaction commits."""
    transaction.on_commit(lambda: publish(task, *args))
