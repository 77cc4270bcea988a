"""Endpoints and the outbox.

`events_emit` is called by whoever says what happened (leads/audience.py for lead events, the
agreement service for an activation) inside the transaction of the change: the deliveries
commit with it or not at all, and their messages are queued only after the commit. A batch
of events is one query for the endpoints and one INSERT, whatever its size.
Sending from the outbox is sending.py's.
"""

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import partial

from django.db import transaction
from django.utils import timezone

from portal.errors import DomainError
from portal.integrations.webhooks.event_types import EVENT_TYPES, TEST
from portal.integrations.webhooks.guard import target_for, url_checked
from portal.integrations.webhooks.models import Delivery, Endpoint
from portal.integrations.webhooks.tasks import queue_deliveries

logger = logging.getLogger(__name__)


def envelope(kind: str, data: dict, *, at: datetime) -> dict:
    return {"type": kind, "timestamp": at.isoformat(), "data": data}


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


# Endpoints


def _kinds_checked(kinds: Sequence[str]) -> list[str]:
    unknown = sorted(set(kinds) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(f"There is no event kind {', '.join(unknown)}.", field="kinds")
    if not kinds:
        raise DomainError("Choose at least one kind of event.", code="required", field="kinds")
    return [kind for kind in EVENT_TYPES if kind in kinds]


def _url_checked(url: str) -> str:
    url_checked(url)
    target_for(url)  # resolves now: a name that points inside is refused at once
    return url


def endpoint_create(*, name: str, url: str, kinds: Sequence[str], by) -> Endpoint:
    endpoint = Endpoint(name=name, url=_url_checked(url), kinds=_kinds_checked(kinds))
    endpoint.created_by = by
    endpoint.save()
    return endpoint


def endpoint_update(*, endpoint: Endpoint, name: str, url: str, kinds: Sequence[str]) -> None:
    endpoint.name = name
    endpoint.url = url if url == endpoint.url else _url_checked(url)
    endpoint.kinds = _kinds_checked(kinds)
    endpoint.save(update_fields=["name", "url", "kinds"])


def endpoint_disable(*, endpoint: Endpoint, reason: str) -> None:
    """Nothing more is sent to it, nor kept for it, until it is switched on again."""
    Endpoint.objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason=reason[:300])
    endpoint.refresh_from_db(fields=["is_active", "disabled_reason"])


def endpoint_enable(*, endpoint: Endpoint) -> int:
    """Switched on again: what was still pending for it is sent now; how many deliveries."""
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint.pk).update(
            is_active=True, disabled_reason="", failing_since=None
        )
        pending = Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.PENDING)
        pending.update(next_attempt_at=timezone.now())
        ids = list(pending.values_list("pk", flat=True))
        _queue_on_commit(ids)
    endpoint.refresh_from_db(fields=["is_active", "disabled_reason", "failing_since"])
    return len(ids)


def endpoint_secret_rotate(*, endpoint: Endpoint) -> None:
    from portal.integrations.webhooks.models import new_secret

    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])


# The outbox


def events_emit(
    events: Iterable[tuple[str, dict | Callable[[], dict]]], *, at: datetime | None = None
) -> int:
    """Write a delivery for each `(kind, data)` and each active endpoint subscribed to its
    kind, in the caller's transaction; the number written. Queued after the commit.

    `data` may be a function giving it: it is called only when an endpoint wants the kind.
    """
    wanted = [(kind, data) for kind, data in events if kind in EVENT_TYPES]
    if not wanted:
        return 0
    kinds = {kind for kind, _ in wanted}
    endpoints = [
        (pk, set(subscribed))
        for pk, subscribed in Endpoint.objects.filter(is_active=True).values_list("pk", "kinds")
        if kinds & set(subscribed)
    ]
    if not endpoints:
        return 0
    now = at or timezone.now()
    rows = []
    for kind, data in wanted:
        to = [pk for pk, subscribed in endpoints if kind in subscribed]
        if not to:
            continue
        payload = envelope(kind, data() if callable(data) else data, at=now)
        rows.extend(
            Delivery(
                endpoint_id=pk,
                kind=kind,
                msg_id=new_msg_id(),
                payload=payload,
                created_at=now,
                next_attempt_at=now,
            )
            for pk in to
        )
    if not rows:
        return 0
    created = Delivery.objects.bulk_create(rows)
    _queue_on_commit([row.pk for row in created if row.pk is not None] or None)
    return len(rows)


def endpoint_test(*, endpoint: Endpoint, by) -> Delivery:
    """A test message to `endpoint` (even if switched off), sent at once and logged."""
    now = timezone.now()
    data = {"endpoint": endpoint.name, "sent_by": str(by) if by else "", "test": True}
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        kind=TEST.kind,
        msg_id=new_msg_id(),
        payload=envelope(TEST.kind, data, at=now),
        created_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(partial(queue_deliveries, [delivery.pk]), robust=True)
    return delivery


def delivery_redeliver(*, delivery: Delivery) -> None:
    """Send again by hand, with the same `webhook-id`, whatever became of it before. Not to a
    switched-off endpoint (as Stripe's dashboard): nothing would go, so it says so; switching
    it on sends what is pending. A test message goes anyway, as the test button's do."""
    endpoint = delivery.endpoint
    if not endpoint.is_active and delivery.kind != TEST.kind:
        raise DomainError(
            f"{endpoint.name} is switched off, so nothing is sent to it. Switch it on first: "
            "its pending deliveries are sent then, and this one can be sent again.",
            code="endpoint_off",
            status=409,
        )
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now(), delivered_at=None
    )
    transaction.on_commit(partial(queue_deliveries, [delivery.pk]), robust=True)


def _queue_on_commit(ids: list[int] | None) -> None:
    if ids is None:
        # SQLite's bulk_create before 3.35 gives no ids: the sweeper finds them.
        return
    if ids:
        # robust: a broker down never fails the change; the sweeper stands behind it.
        transaction.on_commit(partial(queue_deliveries, ids), robust=True)
