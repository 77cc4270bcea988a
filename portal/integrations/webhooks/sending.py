"""Sending from the outbox: one attempt at a time, logged, and the next one scheduled.

`delivery_attempt` claims its delivery with a conditional UPDATE (healthchecks' sendalerts):
`next_attempt_at` must still be due, and the claim pushes it on by a lease (a worker that
dies mid-send leaves it to the sweeper when the lease runs out). Two workers holding the same
message, a sweep and a retry: exactly one of them sends each attempt.

The requests go out on one pool of threads per worker process (`send_pool`), shared by every
task the process runs at once, so the process never sends more than WEBHOOKS_SEND_THREADS
requests at a time: as many as sender.py's clients keep connections. A delivery whose turn
in the pool comes so late that its request could outlive its claim's lease is not sent but
handed back, so a second sender can never take it while the first is still sending.
"""

import logging
import os
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
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


# A claim holds its deliveries for one time-out and this much more; a request starts only
# while two time-outs are left of the lease (its own, then the record's and a slow read's).
LEASE_MARGIN = timedelta(seconds=30)


def _lease() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS) + LEASE_MARGIN


_pool: tuple[tuple[int, int], ThreadPoolExecutor] | None = None
_pool_made = threading.Lock()


def send_pool() -> ThreadPoolExecutor:
    """This process's send threads: made on first use, kept for every task after. A forked
    worker makes its own (its parent's threads are not in it)."""
    global _pool
    key = (os.getpid(), settings.WEBHOOKS_SEND_THREADS)
    found = _pool
    if found is None or found[0] != key:
        with _pool_made:
            found = _pool
            if found is None or found[0] != key:
                if found is not None and found[0][0] == key[0]:
                    found[1].shutdown(wait=False)  # resized: its threads end when idle
                pool = ThreadPoolExecutor(key[1], thread_name_prefix="webhook")
                found = _pool = (key, pool)
    return found[1]


def endpoint_threads() -> int:
    """The most of a process's send threads one endpoint's requests may hold at once: a slow
    endpoint leaves a quarter of them (at least one) to the others."""
    threads = settings.WEBHOOKS_SEND_THREADS
    return max(1, threads - threads // 4)


class _EndpointTurns:
    """Turns on the send pool by endpoint: at most `endpoint_threads()` of one endpoint's
    requests are on the pool at once; the rest wait in its own line, holding no thread, and
    go as its requests end. So a slow receiver holds only its share of the threads for its
    time-out, and another endpoint's deliveries (of the same task or another one the process
    runs) go meanwhile; one left waiting too long in the line is handed back (`one`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running: dict[int, int] = defaultdict(int)
        self.waiting: dict[int, deque] = defaultdict(deque)

    def submit(self, endpoint_id: int, fn, *args) -> Future:
        future: Future = Future()
        with self.lock:
            go = self.running[endpoint_id] < endpoint_threads()
            if go:
                self.running[endpoint_id] += 1
            else:
                self.waiting[endpoint_id].append((future, fn, args))
        if go:
            self._start(endpoint_id, future, fn, args)
        return future

    def _start(self, endpoint_id: int, future: Future, fn, args) -> None:
        def run():
            try:
                future.set_result(fn(*args))
            except BaseException as error:  # the caller's future.result() raises it
                future.set_exception(error)
            finally:
                self._next(endpoint_id)

        send_pool().submit(run)

    def _next(self, endpoint_id: int) -> None:
        with self.lock:
            line = self.waiting.get(endpoint_id)
            if line:
                turn = line.popleft()
            else:
                turn = None
                self.waiting.pop(endpoint_id, None)
                self.running[endpoint_id] -= 1
                if not self.running[endpoint_id]:
                    del self.running[endpoint_id]
        if turn is not None:
            self._start(endpoint_id, *turn)


_turns_of: tuple[int, _EndpointTurns] | None = None


def _turns() -> _EndpointTurns:
    """This process's turns (a forked worker starts with none of its parent's)."""
    global _turns_of
    found = _turns_of
    if found is None or found[0] != os.getpid():
        with _pool_made:
            found = _turns_of
            if found is None or found[0] != os.getpid():
                found = _turns_of = (os.getpid(), _EndpointTurns())
    return found[1]


@dataclass(frozen=True)
class Tried:
    attempts: list[DeliveryAttempt]
    # Claimed, but handed back unsent (due again now): their turn came too late in the lease.
    handed_back: list[int]


def deliveries_claim(*, ids: Sequence[int], now: datetime) -> list[Delivery]:
    """Take the next attempt of those of `ids` that are due, in one transaction; the ones this
    caller got (someone else's, or not due, are left). A test message goes even to a
    switched-off endpoint (the button is how one checks it).

    The rows are locked with SKIP LOCKED, so a claim never waits for another one over the
    same rows: it takes those no one holds. A row another claim has just taken fails the
    WHERE again when PostgreSQL re-reads it under the lock (`next_attempt_at` has moved on),
    so two claims never both win it."""
    token = uuid.uuid4().hex
    if connection.vendor == "postgresql":
        return _claimed_in_one_statement(ids=ids, now=now, token=token)
    with transaction.atomic():
        sendable = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=ids, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(endpoint__is_active=True) | Q(kind=TEST.kind))
            .values_list("pk", flat=True)
        )
        if not sendable:
            return []
        Delivery.objects.filter(pk__in=sendable).update(
            claim=token, next_attempt_at=now + _lease(), attempts=F("attempts") + 1
        )
    claimed = Delivery.objects.filter(pk__in=sendable, claim=token).select_related("endpoint")
    return list(claimed.order_by("pk"))  # oldest first: any handed back are the newest


# What a claim reads of an endpoint, in the same statement (in the model's order, as
# `Model.from_db` takes them); the rest is deferred.
_ENDPOINT_COLUMNS = tuple(
    field.attname
    for field in Endpoint._meta.concrete_fields
    if field.attname in {"id", "name", "url", "secret", "is_active"}
)


def _claim_sql() -> str:
    delivery, endpoint = Delivery._meta.db_table, Endpoint._meta.db_table
    columns = ", ".join(f"d.{field.column}" for field in Delivery._meta.concrete_fields)
    endpoint_columns = ", ".join(f"e.{name} AS e_{name}" for name in _ENDPOINT_COLUMNS)
    return (
        f"UPDATE {delivery} AS d SET claim = %s, next_attempt_at = %s, "  # noqa: S608 - names from the models, values bound
        "attempts = d.attempts + 1 "
        f"FROM (SELECT id FROM {delivery} WHERE id = ANY(%s) AND status = %s "
        "AND next_attempt_at <= %s "
        f"AND (kind = %s OR endpoint_id IN (SELECT id FROM {endpoint} WHERE is_active)) "
        f"FOR UPDATE SKIP LOCKED) AS due, {endpoint} AS e "
        f"WHERE d.id = due.id AND e.id = d.endpoint_id RETURNING {columns}, {endpoint_columns}"
    )


def _claimed_in_one_statement(*, ids: Sequence[int], now: datetime, token: str) -> list[Delivery]:
    """`deliveries_claim` on PostgreSQL: lock, claim and read the due rows and their endpoints
    in one statement, atomic on its own (one round trip where the ORM's claim took five:
    BEGIN, the locking SELECT, the UPDATE, COMMIT and the read back). The locking sub-select
    re-checks its WHERE on a row another claim has just changed, as the SELECT did."""
    claimed = list(
        Delivery.objects.raw(
            _claim_sql(),
            [token, now + _lease(), list(ids), Delivery.Status.PENDING, now, TEST.kind],
        )
    )
    endpoints = {}
    for delivery in claimed:
        pk = delivery.endpoint_id
        if pk not in endpoints:
            values = [getattr(delivery, f"e_{name}") for name in _ENDPOINT_COLUMNS]
            endpoints[pk] = Endpoint.from_db(delivery._state.db, _ENDPOINT_COLUMNS, values)
        delivery.endpoint = endpoints[pk]
    return sorted(claimed, key=lambda d: d.pk)  # oldest first: any handed back are the newest


def deliveries_attempt(*, ids: Sequence[int]) -> Tried:
    """One attempt of each of `ids` this caller claims: sent side by side on the send pool,
    logged, and the next one scheduled, in one transaction for the lot. The HTTP requests are
    made outside any transaction, so a slow receiver holds no lock. Each endpoint's address
    is resolved and checked once for the batch."""
    claimed_at = time.monotonic()
    now = timezone.now()
    claimed = deliveries_claim(ids=ids, now=now)
    if not claimed:
        return Tried([], [])
    targets = {d.endpoint_id: d.endpoint.url for d in claimed}
    targets = {pk: sender.resolved(url) for pk, url in targets.items()}
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    # The last moment a request may start: one time-out later it has ended, with a time-out
    # of the lease still left for the record (and a slow read's overrun).
    last_start = claimed_at + (_lease().total_seconds() - 2 * timeout)

    def one(delivery: Delivery) -> sender.Outcome | None:
        if time.monotonic() > last_start:
            return None
        endpoint = delivery.endpoint
        return sender.send(
            url=endpoint.url,
            secret=endpoint.secret,
            msg_id=delivery.msg_id,
            payload=delivery.payload,
            target=targets[endpoint.pk],
        )

    turns = _turns()
    sending = [turns.submit(d.endpoint_id, one, d) for d in claimed]
    outcomes = [future.result() for future in sending]
    return _attempts_recorded(claimed, outcomes, at=now)


def delivery_attempt(*, delivery_id: int) -> DeliveryAttempt | None:
    """`deliveries_attempt` for one delivery: its attempt, or None if not claimed."""
    attempts = deliveries_attempt(ids=[delivery_id]).attempts
    return attempts[0] if attempts else None


def _attempts_recorded(
    claimed: list[Delivery], outcomes: list[sender.Outcome | None], *, at: datetime
) -> Tried:
    done = timezone.now()
    delays = retry_delays()
    pairs = list(zip(claimed, outcomes, strict=True))
    sent = [(d, outcome) for d, outcome in pairs if outcome is not None]
    unsent = [d for d, outcome in pairs if outcome is None]
    delivered, gave_up, retry = [], [], defaultdict(list)
    answered, failing = set(), set()
    for delivery, outcome in sent:
        if outcome.ok:
            delivered.append(delivery.pk)
            answered.add(delivery.endpoint_id)
            continue
        failing.add(delivery.endpoint_id)
        if delivery.kind == TEST.kind or delivery.attempts > len(delays):
            # The test button's message is tried once; an event, until the schedule ends.
            gave_up.append(delivery)
        else:
            retry[delivery.attempts].append(delivery.pk)
    with transaction.atomic():
        attempts = DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(
                delivery=delivery,
                at=at,
                status_code=outcome.status_code,
                ok=outcome.ok,
                error=outcome.error,
                response_excerpt=outcome.excerpt,
                duration_ms=outcome.duration_ms,
            )
            for delivery, outcome in sent
        )
        if unsent:
            # Due again at once, this attempt not counted; only if no one claimed it since.
            Delivery.objects.filter(pk__in=[d.pk for d in unsent], claim=unsent[0].claim).update(
                next_attempt_at=done, attempts=F("attempts") - 1
            )
        if delivered:
            Delivery.objects.filter(pk__in=delivered).update(
                status=Delivery.Status.DELIVERED, delivered_at=done, next_attempt_at=None
            )
            Endpoint.objects.filter(pk__in=answered, failing_since__isnull=False).update(
                failing_since=None
            )
        if failing - answered:
            Endpoint.objects.filter(pk__in=failing - answered, failing_since__isnull=True).update(
                failing_since=at
            )
        for tried, pks in retry.items():
            Delivery.objects.filter(pk__in=pks).update(next_attempt_at=done + delays[tried - 1])
        if gave_up:
            Delivery.objects.filter(pk__in=[d.pk for d in gave_up]).update(
                status=Delivery.Status.FAILED, next_attempt_at=None
            )
            for endpoint in {
                d.endpoint_id: d.endpoint for d in gave_up if d.kind != TEST.kind
            }.values():
                _disable_if_failing(endpoint, now=done)
    if unsent:
        logger.warning(
            "%d webhook deliveries handed back unsent: the send pool was too busy to start "
            "them within their lease.",
            len(unsent),
        )
    return Tried(attempts, [d.pk for d in unsent])


def retry_soon(attempts: Sequence[DeliveryAttempt]) -> tuple[list[int], float] | None:
    """The failed deliveries among `attempts` whose next try is due within a countdown worth
    publishing, and the seconds until the first of them; None when the sweeper will do."""
    failed = [attempt.delivery_id for attempt in attempts if not attempt.ok]
    if not failed:
        return None
    horizon = timezone.now() + timedelta(seconds=settings.WEBHOOKS_COUNTDOWN_MAX_SECONDS)
    due = list(
        Delivery.objects.filter(
            pk__in=failed, status=Delivery.Status.PENDING, next_attempt_at__lte=horizon
        ).values_list("pk", "next_attempt_at")
    )
    if not due:
        return None
    first = min(at for _, at in due)
    return [pk for pk, _ in due], max((first - timezone.now()).total_seconds(), 0)


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
