"""Sending from the outbox: one attempt at a time, logged, and the next one scheduled.

`delivery_attempt` claims its delivery with a conditional UPDATE (healthchecks' sendalerts):
`next_attempt_at` must still be due, and the claim pushes it on by a lease (a worker that
dies mid-send leaves it to the sweeper when the lease runs out). Two workers holding the same
message, a sweep and a retry: exactly one of them sends each attempt.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import role_holders
from portal.integrations.webhooks import sender
from portal.integrations.webhooks.event_types import EVENT_TYPES, TEST
from portal.integrations.webhooks.models import Delivery, DeliveryAttempt, Endpoint
from portal.notifications.models import Kind as Told
from portal.notifications.services import Notice, notices_send

logger = logging.getLogger(__name__)


def retry_delays() -> list[timedelta]:
    """The wait before each retry (the first attempt is at once): at least a day in all."""
    return [timedelta(seconds=s) for s in settings.WEBHOOKS_RETRY_SCHEDULE]


def _lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS + 30)


def delivery_claim(*, delivery_id: int, now: datetime) -> bool:
    """Take the next attempt of a due delivery; False if someone else has it or it is not due.
    A test message goes even to a switched-off endpoint (the button is how one checks it)."""
    kind, active = Delivery.objects.filter(pk=delivery_id).values_list(
        "kind", "endpoint__is_active"
    ).first() or (None, False)
    if kind is None or (not active and kind != TEST.kind):
        return False
    # Every condition on the row itself, none through a join: Django writes a join as
    # `WHERE id IN (subquery)`, and PostgreSQL re-checks only the outer WHERE on a row a
    # concurrent claim has just changed, so two claims could both win.
    due = Delivery.objects.filter(
        pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
    )
    return due.update(next_attempt_at=now + _lease(), attempts=F("attempts") + 1) == 1


def delivery_attempt(*, delivery_id: int) -> DeliveryAttempt | None:
    """One attempt, if this caller claims it: sent, logged, and the next one scheduled. The
    HTTP request is made outside any transaction, so a slow receiver holds no lock."""
    now = timezone.now()
    if not delivery_claim(delivery_id=delivery_id, now=now):
        return None
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    outcome = sender.send(
        url=endpoint.url, secret=endpoint.secret, msg_id=delivery.msg_id, payload=delivery.payload
    )
    return _attempt_recorded(delivery, outcome, at=now)


def _attempt_recorded(
    delivery: Delivery, outcome: sender.Outcome, *, at: datetime
) -> DeliveryAttempt:
    endpoint = delivery.endpoint
    done = timezone.now()
    with transaction.atomic():
        attempt = DeliveryAttempt.objects.create(
            delivery=delivery,
            at=at,
            status_code=outcome.status_code,
            ok=outcome.ok,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
            duration_ms=outcome.duration_ms,
        )
        mine = Delivery.objects.filter(pk=delivery.pk)
        if outcome.ok:
            mine.update(status=Delivery.Status.DELIVERED, delivered_at=done, next_attempt_at=None)
            Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
                failing_since=None
            )
            return attempt
        Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=at)
        delays = retry_delays()
        if delivery.kind == TEST.kind or delivery.attempts > len(delays):
            # The test button's message is tried once; an event, until the schedule ends.
            mine.update(status=Delivery.Status.FAILED, next_attempt_at=None)
            if delivery.kind != TEST.kind:
                _disable_if_failing(endpoint, now=done)
            return attempt
        mine.update(next_attempt_at=done + delays[delivery.attempts - 1])
    return attempt


def retry_in(attempt: DeliveryAttempt | None) -> float | None:
    """Seconds until the next attempt when a message with a countdown is worth sending for
    it; None when it is done, or when the sweeper will find it in time."""
    if attempt is None or attempt.ok:
        return None
    due = Delivery.objects.filter(pk=attempt.delivery_id).values_list("next_attempt_at", flat=True)
    next_at = due.first()
    if next_at is None:
        return None
    seconds = (next_at - timezone.now()).total_seconds()
    return max(seconds, 0) if seconds <= settings.WEBHOOKS_COUNTDOWN_MAX_SECONDS else None


def _disable_if_failing(endpoint: Endpoint, *, now: datetime) -> None:
    """A delivery gave up: if the endpoint has not answered well for that long either, it is
    switched off and the managers who look after webhooks are told."""
    cutoff = now - timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS)
    reason = "Switched off by LeadBridge: every delivery failed for more than a day."
    switched = Endpoint.objects.filter(
        pk=endpoint.pk, is_active=True, failing_since__lte=cutoff
    ).update(is_active=False, disabled_reason=reason)
    if not switched:
        return
    logger.warning("Webhook endpoint %s switched off: no success since %s.", endpoint.pk, cutoff)
    managers = role_holders("webhooks.change_endpoint").values_list("pk", flat=True)
    notices_send(
        Notice(
            recipient_id=pk,
            kind=Told.WEBHOOK_DISABLED,
            title=f"The webhook endpoint {endpoint.name} was switched off",
            detail=f"{reason} Check the receiver at {endpoint.url}, then switch it on again.",
            url=reverse("webhooks:endpoint", kwargs={"pk": endpoint.pk}),
        )
        for pk in managers
    )


def deliveries_due(*, before: datetime, limit: int = 1000) -> list[int]:
    """Deliveries whose time has come and whose message may have been lost."""
    due = Delivery.objects.filter(next_attempt_at__lte=before, status=Delivery.Status.PENDING)
    due = due.exclude(endpoint__is_active=False, kind__in=EVENT_TYPES)
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
