"""Two (or eight) workers holding the same delivery at once: the conditional UPDATE lets one
of them send each attempt, on PostgreSQL with real threads and their own connections."""

import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from portal.integrations.webhooks.models import Delivery, DeliveryAttempt
from portal.integrations.webhooks.sending import delivery_attempt
from tests.factories import DeliveryFactory, EndpointFactory

pytestmark = [
    pytest.mark.postgres,
    # serialized_rollback: the flush after a transactional test empties the roles and content
    # types the migrations made; later tests that restore them would find them twice.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WORKERS = 8


def _race(delivery_ids: list[int]) -> list:
    start = threading.Barrier(WORKERS)
    results = []

    def worker():
        try:
            start.wait()
            for delivery_id in delivery_ids:
                results.append(delivery_attempt(delivery_id=delivery_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_workers_claiming_the_same_deliveries_send_each_once(receiver):
    receiver.delay = 0.2  # a send in flight while the others try to claim it
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    now = timezone.now()
    ids = [DeliveryFactory(endpoint=endpoint, next_attempt_at=now).pk for _ in range(5)]
    results = _race(ids)
    sent = [result for result in results if result is not None]
    assert len(sent) == 5
    assert DeliveryAttempt.objects.count() == 5
    assert sorted(r["headers"]["webhook-id"] for r in receiver.received) == sorted(
        Delivery.objects.values_list("msg_id", flat=True)
    )
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_workers_claiming_the_same_batch_send_each_delivery_once(receiver):
    from portal.integrations.webhooks.sending import deliveries_attempt

    receiver.delay = 0.1
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    now = timezone.now()
    ids = [DeliveryFactory(endpoint=endpoint, next_attempt_at=now).pk for _ in range(30)]
    start = threading.Barrier(WORKERS)
    sent = []

    def worker():
        try:
            start.wait()
            sent.extend(deliveries_attempt(ids=ids).attempts)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(attempt.delivery_id for attempt in sent) == sorted(ids)
    assert DeliveryAttempt.objects.count() == len(ids) == len(receiver.received)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_claim_takes_the_rows_no_one_holds_without_waiting_for_the_others(receiver):
    from portal.integrations.webhooks.sending import deliveries_claim

    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    now = timezone.now()
    held, free = (DeliveryFactory(endpoint=endpoint, next_attempt_at=now) for _ in range(2))
    locked, release = threading.Event(), threading.Event()

    def holder():  # another claim, in the middle of its transaction
        try:
            with transaction.atomic():
                list(Delivery.objects.select_for_update().filter(pk=held.pk))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    assert locked.wait(5)
    try:
        started = time.monotonic()
        claimed = deliveries_claim(ids=[held.pk, free.pk], now=timezone.now())
        waited = time.monotonic() - started
    finally:
        release.set()
        thread.join(timeout=20)
    assert [delivery.pk for delivery in claimed] == [free.pk]
    assert waited < 2
