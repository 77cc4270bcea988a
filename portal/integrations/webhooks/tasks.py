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


def queue_deliveries(ids: Sequence[int], *, countdown: float | None = None) -> None:
    """Publish after commit; a message the broker refused is the sweeper's."""
    try:
        if len(ids) == 1:
            deliver.apply_async((ids[0],), countdown=countdown, retry=False)
        else:
            fan_out.apply_async((list(ids),), retry=False)
    except BrokerError as error:
        logger.warning("Could not queue %d webhook deliveries: %s", len(ids), error)


@shared_task(name="webhooks.fan_out", **BULK, **RETRY)
def fan_out(ids: list[int]) -> None:
    for delivery_id in ids:
        deliver.apply_async((delivery_id,))


@shared_task(name="webhooks.deliver", **BULK, **RETRY)
def deliver(delivery_id: int) -> None:
    attempt = sending.delivery_attempt(delivery_id=delivery_id)
    countdown = sending.retry_in(attempt)
    if countdown is not None:
        queue_deliveries([delivery_id], countdown=countdown)


@shared_task(name="webhooks.sweep", **BULK)
def sweep() -> None:
    due = sending.deliveries_due(before=timezone.now() - SWEEP_GRACE)
    for delivery_id in due:
        deliver.apply_async((delivery_id,))
    if due:
        logger.info("Webhook sweeper queued %d deliveries.", len(due))
