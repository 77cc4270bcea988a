"""Publishing handoff messages: best effort, never in the way of a request.

The stored row is the outbox (`Submission.qualify_due_at`, `Lead.route_due_at`): a message
only saves waiting for the sweeper. So a publish is tried once, after the commit, and gives
up within the broker timeout (~50 ms, `BROKER_TIMEOUT`); a failure is logged and the row's
lease is released, so the next sweep queues the work again. Every handoff message goes out
through here; nothing on the request path calls `.delay()` itself.
"""

import logging
from collections.abc import Callable

from celery import Task
from django.db import DatabaseError, transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def publish(task: Task, *args) -> bool:
    """Send one message now; False (logged) when the broker does not take it in time."""
    try:
        task.apply_async(args, retry=False)
    except BrokerError as error:
        logger.warning("Could not queue %s%r, the sweeper will: %s", task.name, args, error)
        return False
    return True


def enqueue_on_commit(task: Task, *args, release: Callable[[], object] | None = None) -> None:
    """Publish after the current transaction commits; on failure, call `release`."""

    def send() -> None:
        if publish(task, *args) or release is None:
            return
        try:
            release()
        except DatabaseError:
            logger.exception("Could not release %s%r; its lease runs out instead.", task.name, args)

    transaction.on_commit(send)
