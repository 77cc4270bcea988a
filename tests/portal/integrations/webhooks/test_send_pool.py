"""One pool of send threads per worker process, shared by the tasks it runs at once: the
process never sends more requests at a time than WEBHOOKS_SEND_THREADS, its clients keep as
many connections alive, and a delivery whose turn comes too late in its claim's lease is
handed back unsent (so no second sender can take it while the first still sends)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from portal.integrations.webhooks import sending, tasks
from portal.integrations.webhooks.models import Delivery, DeliveryAttempt
from tests.factories import DeliveryFactory, EndpointFactory

from .conftest import Receiver


def _due(endpoint, count: int) -> list[int]:
    now = timezone.now()
    return [DeliveryFactory(endpoint=endpoint, next_attempt_at=now).pk for _ in range(count)]


@pytest.mark.django_db
def test_the_send_threads_and_their_connections_serve_task_after_task(
    receiver, settings, monkeypatch
):
    """Three messages of 30 deliveries each (to two endpoints on one receiver, 15 each: within
    each endpoint's share of the threads), 30 send threads: the same 30 threads send all
    three, over the same 30 kept-alive connections (httpx's default kept only 20)."""
    settings.WEBHOOKS_SEND_THREADS = 30
    receiver.keep_alive = True
    receiver.delay = 0.3  # the whole batch in flight at once: 30 connections needed
    endpoints = [EndpointFactory(kinds=["lead.won"], url=receiver.url) for _ in range(2)]
    threads = set()
    send = sending.sender.send

    def noting_the_thread(**kwargs):
        threads.add(threading.current_thread())
        return send(**kwargs)

    monkeypatch.setattr(sending.sender, "send", noting_the_thread)
    for _ in range(3):
        ids = [pk for endpoint in endpoints for pk in _due(endpoint, 15)]
        assert len(sending.deliveries_attempt(ids=ids).attempts) == 30
    assert len(receiver.received) == 90
    assert receiver.most_in_flight == 30
    assert len(threads) == 30
    assert len(receiver.connections) == 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tasks_running_at_once_share_the_send_threads_and_their_connections(receiver, settings):
    """Four tasks at once (a threads pool), six deliveries each, three send threads: never
    more than three requests in flight, nor three connections open."""
    settings.WEBHOOKS_SEND_THREADS = 3
    receiver.keep_alive = True
    receiver.delay = 0.2
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    batches = [_due(endpoint, 6) for _ in range(4)]
    start = threading.Barrier(len(batches))

    def task(ids):
        try:
            start.wait()
            tasks.deliver_batch(ids)
        finally:
            connection.close()

    runs = [threading.Thread(target=task, args=(ids,)) for ids in batches]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 24
    assert len(receiver.received) == 24
    assert receiver.most_in_flight == 3
    assert receiver.most_open <= 3
    assert len(receiver.connections) <= 3


@pytest.mark.django_db
def test_a_delivery_whose_turn_comes_too_late_in_its_lease_is_handed_back_unsent(
    receiver, settings, monkeypatch
):
    """One send thread, a receiver taking 0.8 s, a lease leaving 0.5 s to start a request
    with a whole time-out (1 s) still ahead: the first goes, the two behind it are handed
    back, due again at once and their attempt not counted, with nothing logged for them."""
    settings.WEBHOOKS_SEND_THREADS = 1
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    monkeypatch.setattr(sending, "LEASE_MARGIN", timedelta(seconds=1.5))
    receiver.delay = 0.8
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    first, *behind = _due(endpoint, 3)
    tried = sending.deliveries_attempt(ids=[first, *behind])
    assert [attempt.delivery_id for attempt in tried.attempts] == [first]
    assert sorted(tried.handed_back) == sorted(behind)
    assert len(receiver.received) == 1
    for delivery in Delivery.objects.filter(pk__in=behind):
        assert delivery.status == Delivery.Status.PENDING
        assert delivery.attempts == 0
        assert delivery.next_attempt_at <= timezone.now()
    assert not DeliveryAttempt.objects.filter(delivery_id__in=behind).exists()


@pytest.mark.django_db
def test_handed_back_deliveries_are_queued_again_and_each_sent_once(
    receiver, settings, monkeypatch
):
    settings.WEBHOOKS_SEND_THREADS = 1
    settings.WEBHOOKS_TIMEOUT_SECONDS = 1
    monkeypatch.setattr(sending, "LEASE_MARGIN", timedelta(seconds=1.5))
    receiver.delay = 0.8
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    ids = _due(endpoint, 3)
    tasks.deliver_batch(ids)  # eager: the message queued again runs at once
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}
    seen = [request["headers"]["webhook-id"] for request in receiver.received]
    assert sorted(seen) == sorted(Delivery.objects.values_list("msg_id", flat=True))


def test_a_forked_process_makes_its_own_send_threads(settings, monkeypatch):
    pool = sending.send_pool()
    assert sending.send_pool() is pool
    monkeypatch.setattr(sending.os, "getpid", lambda: -1)
    assert sending.send_pool() is not pool


@pytest.mark.django_db
def test_a_slow_endpoint_holds_only_its_share_of_the_send_threads(receiver, settings):
    """Four send threads, one slow endpoint (a second an answer) with six deliveries ahead
    of a fast one's four in the same batch: the slow one never has more than three in flight
    and the fast one's are all answered before the slow one's first answer (without the
    share, the slow one held all four threads and the fast ones waited a second)."""
    settings.WEBHOOKS_SEND_THREADS = 4
    assert sending.endpoint_threads() == 3
    receiver.delay = 1.0
    fast = Receiver()
    try:
        slow_endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
        fast_endpoint = EndpointFactory(kinds=["lead.won"], url=fast.url)
        ids = _due(slow_endpoint, 6) + _due(fast_endpoint, 4)
        answered = []
        send = sending.sender.send

        def noting_when(**kwargs):
            outcome = send(**kwargs)
            answered.append((kwargs["url"], time.monotonic()))
            return outcome

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sending.sender, "send", noting_when)
            tried = sending.deliveries_attempt(ids=ids)
    finally:
        fast.stop()
    assert len(tried.attempts) == 10
    assert receiver.most_in_flight == 3
    last_fast = max(at for url, at in answered if url == fast.url)
    first_slow = min(at for url, at in answered if url == receiver.url)
    assert last_fast < first_slow
