"""Sending webhooks, on the bulk queue: a slow or dead receiver never delays the handoff.

The change that wrote deliveries publishes one message after its commit (`fan_out`), which
publishes one per delivery, so a batch of the handoff pays one publish, and each delivery
goes on its own (a slow receiver holds up only its own). Each `deliver` claims its attempt
(services.delivery_claim). Beat runs the sweeper: retries due later than a countdown is
worth, and deliveries whose message was lost.
"""

import logging
from collections.abc import Sequence
from datetime import timedelta

from celery import shared_task
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from portal.integrations.webhooks import sending
from portal.task_options import BULK, RETRY

logger = logging.getLogger(__name__)

# The sweeper leaves alone what its own message is about to send.
SWEEP_GRACE = timedelta(seconds=30)


# A message carries this many deliveries: one claim, one INSERT of attempts and a few
# UPDATEs for the lot, the requests sent side by side on the process's send pool
# (WEBHOOKS_SEND_THREADS).
CHUNK = 50


def queue_deliveries(ids: Sequence[int], *, countdown: float | None = None) -> None:
    """Publish after commit; a message the broker refused is the sweeper's."""
    try:
        if len(ids) <= CHUNK:
            deliver_batch.apply_async((list(ids),), countdown=countdown, retry=False)
        else:
            fan_out.apply_async((list(ids),), retry=False)
    except BrokerError as error:
        logger.warning("Could not queue %d webhook deliveries: %s", len(ids), error)


def _chunks(ids: Sequence[int]):
    for first in range(0, len(ids), CHUNK):
        yield list(ids[first : first + CHUNK])


@shared_task(name="webhooks.fan_out", **BULK, **RETRY)
def fan_out(ids: list[int]) -> None:
    for chunk in _chunks(ids):
        deliver_batch.apply_async((chunk,))


@shared_task(name="webhooks.deliver_batch", **BULK, **RETRY)
def deliver_batch(ids: list[int]) -> None:
    tried = sending.deliveries_attempt(ids=ids)
    if tried.handed_back:
        queue_deliveries(tried.handed_back)
    soon = sending.retry_soon(tried.attempts)
    if soon is not None:
        again, countdown = soon
        queue_deliveries(again, countdown=countdown)


@shared_task(name="webhooks.deliver", **BULK, **RETRY)
def deliver(delivery_id: int) -> None:
    deliver_batch([delivery_id])


@shared_task(name="webhooks.sweep", **BULK)
def sweep() -> None:
    due = sending.deliveries_due(before=timezone.now() - SWEEP_GRACE)
    for chunk in _chunks(due):
        deliver_batch.apply_async((chunk,))
    if due:
        logger.info("Webhook sweeper queued %d deliveries.", len(due))
