"""Sending from the outbox: retried with backoff for over a day while a receiver is down,
every attempt logged, each event arriving under one webhook-id, a failing endpoint switched
off with a word to the managers, redelivery by hand and the test button."""

import itertools
import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from portal.accounts.roles import Role
from portal.integrations.webhooks import tasks
from portal.integrations.webhooks.models import Delivery, DeliveryAttempt
from portal.integrations.webhooks.sending import delivery_attempt
from portal.integrations.webhooks.services import (
    delivery_redeliver,
    endpoint_disable,
    endpoint_enable,
    endpoint_test,
    events_emit,
)
from portal.notifications.models import Kind, Notification
from tests.factories import EndpointFactory, UserFactory

from .conftest import Receiver

pytestmark = pytest.mark.django_db
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _emit(capture, count: int, kind="lead.won") -> None:
    with capture(execute=True):
        events_emit([(kind, {"lead": {"id": n}}) for n in range(count)])


def test_a_receiver_down_for_ten_minutes_gets_every_event_after_once_each(
    receiver, django_capture_on_commit_callbacks
):
    """Down (nothing listens on its port) for ten minutes while the sweeper runs each minute,
    then up: every event arrives, each under its own webhook-id, the same on every try."""
    port = _free_port()
    endpoint = EndpointFactory(kinds=["lead.won"], url=f"http://127.0.0.1:{port}/hooks")
    with time_machine.travel(START, tick=False) as clock:
        _emit(django_capture_on_commit_callbacks, 5)
        for _ in range(10):
            clock.shift(timedelta(minutes=1))
            tasks.sweep()
        assert not Delivery.objects.filter(status=Delivery.Status.DELIVERED).exists()
        assert DeliveryAttempt.objects.filter(ok=False).count() >= 10  # tried, and logged
        up = Receiver(port=port)
        try:
            for _ in range(120):  # two hours of sweeps: the next try is at most 30 minutes on
                clock.shift(timedelta(minutes=1))
                tasks.sweep()
        finally:
            up.stop()
    assert set(endpoint.deliveries.values_list("status", flat=True)) == {"delivered"}
    ids = [request["headers"]["webhook-id"] for request in up.received]
    assert len(ids) == len(set(ids)) == 5
    assert sorted(p["data"]["lead"]["id"] for p in up.payloads()) == [0, 1, 2, 3, 4]
    assert set(ids) == set(endpoint.deliveries.values_list("msg_id", flat=True))


def test_retries_follow_the_backoff_schedule_for_more_than_a_day(
    receiver, settings, django_capture_on_commit_callbacks
):
    receiver.status = 503
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        _emit(django_capture_on_commit_callbacks, 1)
        for _ in range(40 * 60):  # forty hours, a sweep a minute
            clock.shift(timedelta(minutes=1))
            tasks.sweep()
    delivery = endpoint.deliveries.get()
    times = sorted(delivery.attempt_rows.values_list("at", flat=True))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE
    assert len(times) == len(schedule) + 1
    # Each wait is the schedule's, and at most a sweep (a minute) and its grace later.
    for gap, planned in zip(gaps, schedule, strict=True):
        assert planned <= gap <= planned + 120, (gaps, schedule)
    assert times[-1] - times[0] >= timedelta(hours=24)
    assert delivery.status == Delivery.Status.FAILED
    assert len(receiver.received) == len(times)
    assert len({r["headers"]["webhook-id"] for r in receiver.received}) == 1


def test_an_endpoint_failing_for_a_day_is_switched_off_and_the_managers_told(
    receiver, django_capture_on_commit_callbacks
):
    receiver.status = 500
    sales, marketing = (
        UserFactory(role=Role.SALES_MANAGER),
        UserFactory(role=Role.MARKETING_MANAGER),
    )
    marketer = UserFactory(role=Role.MARKETER)
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        _emit(django_capture_on_commit_callbacks, 1)
        clock.shift(timedelta(hours=20))
        tasks.sweep()
        endpoint.refresh_from_db()
        assert endpoint.is_active  # failing, but not for long enough
        for _ in range(40):
            clock.shift(timedelta(hours=1))
            tasks.sweep()
        _emit(django_capture_on_commit_callbacks, 1)  # after it was switched off: not kept
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "failed" in endpoint.disabled_reason
    told = Notification.objects.filter(kind=Kind.WEBHOOK_DISABLED)
    assert set(told.values_list("recipient_id", flat=True)) == {sales.pk, marketing.pk}
    assert not told.filter(recipient=marketer).exists()
    assert endpoint.deliveries.count() == 1


def test_a_success_within_the_last_day_keeps_a_flaky_endpoint_on(
    receiver, django_capture_on_commit_callbacks
):
    receiver.status = 500
    endpoint = EndpointFactory(kinds=["lead.won", "lead.lost"], url=receiver.url)
    with time_machine.travel(START, tick=False) as clock:
        _emit(django_capture_on_commit_callbacks, 1)
        for hour in range(1, 70):
            clock.shift(timedelta(hours=1))
            if hour == 20:  # one answered well, within the day before the first gives up
                receiver.status = 200
                _emit(django_capture_on_commit_callbacks, 1, kind="lead.lost")
                receiver.status = 500
            tasks.sweep()
    endpoint.refresh_from_db()
    assert endpoint.deliveries.filter(status=Delivery.Status.FAILED).count() == 1
    assert endpoint.is_active


def test_a_switched_off_endpoint_gets_nothing_until_switched_on_then_what_waited(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    receiver.status = 503
    _emit(django_capture_on_commit_callbacks, 1)
    receiver.status = 200
    endpoint_disable(endpoint=endpoint, reason="Maintenance")
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        tasks.sweep()
        assert len(receiver.received) == 1  # the first try only
        with django_capture_on_commit_callbacks(execute=True):
            assert endpoint_enable(endpoint=endpoint) == 1
    assert len(receiver.received) == 2
    assert endpoint.deliveries.get().status == Delivery.Status.DELIVERED


def test_redelivery_sends_again_with_the_same_webhook_id(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    _emit(django_capture_on_commit_callbacks, 1)
    delivery = endpoint.deliveries.get()
    with django_capture_on_commit_callbacks(execute=True):
        delivery_redeliver(delivery=delivery)
    first, again = receiver.received
    assert first["headers"]["webhook-id"] == again["headers"]["webhook-id"] == delivery.msg_id
    assert first["body"] == again["body"]
    assert delivery.attempt_rows.count() == 2


def test_the_test_button_sends_a_signed_test_message_and_logs_its_attempt(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_test(endpoint=endpoint, by=UserFactory(username="ann"))
    (payload,) = receiver.payloads()
    assert payload["type"] == "webhook.test"
    (attempt,) = delivery.attempt_rows.all()
    assert (attempt.ok, attempt.status_code) == (True, 200)
    assert '"seen": 1' in attempt.response_excerpt


def test_an_error_answer_is_logged_with_its_status_and_an_excerpt(
    receiver, django_capture_on_commit_callbacks
):
    receiver.status = 422
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    _emit(django_capture_on_commit_callbacks, 1)
    delivery = endpoint.deliveries.get()
    (attempt,) = delivery.attempt_rows.all()
    assert (attempt.ok, attempt.status_code, attempt.error) == (False, 422, "Answered 422")
    assert attempt.response_excerpt.startswith("{")
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.next_attempt_at > timezone.now()


def test_a_slow_receiver_is_given_up_on_after_the_timeout(
    receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.5
    receiver.delay = 3
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    _emit(django_capture_on_commit_callbacks, 1)
    (attempt,) = endpoint.deliveries.get().attempt_rows.all()
    assert not attempt.ok
    assert "Timeout" in attempt.error
    assert attempt.duration_ms < 2000


def test_a_delivery_not_due_or_done_is_not_sent_again(receiver, django_capture_on_commit_callbacks):
    endpoint = EndpointFactory(kinds=["lead.won"], url=receiver.url)
    _emit(django_capture_on_commit_callbacks, 1)
    delivery = endpoint.deliveries.get()
    assert delivery_attempt(delivery_id=delivery.pk) is None
    tasks.sweep()
    assert len(receiver.received) == 1
