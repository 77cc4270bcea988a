import time
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import checks
from django.db import DatabaseError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from leads.handoff.apps import broker_configured
from portal.health.heartbeats import worker_seen
from tests.conftest import needs_redis_server

pytestmark = pytest.mark.django_db


def health(client):
    response = client.get(reverse("healthz"))
    return response.status_code, response.json()


@pytest.fixture
def workers_seen():
    """A worker took a task from each queue a moment ago."""
    for queue in (settings.CELERY_HANDOFF_QUEUE, settings.CELERY_BULK_QUEUE):
        worker_seen(queue=queue, worker=f"{queue}@host", at=timezone.now() - timedelta(seconds=5))


@override_settings(CELERY_BROKER_URL="")
def test_healthz_is_ok_when_the_database_answers_and_tasks_run_in_process(client):
    assert health(client) == (
        200,
        {"status": "ok", "database": "ok", "broker": "not configured", "workers": "in process"},
    )


@needs_redis_server
def test_healthz_is_ok_when_the_database_and_the_broker_answer_and_workers_were_seen(
    client, own_broker, workers_seen
):
    assert health(client) == (
        200,
        {"status": "ok", "database": "ok", "broker": "ok", "workers": "ok"},
    )


@needs_redis_server
@override_settings(LEADBRIDGE_WORKER_SEEN_WITHIN_SECONDS=180)
def test_healthz_is_degraded_when_no_worker_took_a_task_from_a_queue_for_too_long(
    client, own_broker, workers_seen, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    worker_seen(queue="handoff", worker="handoff@host", at=timezone.now() - timedelta(seconds=312))
    assert health(client) == (
        200,
        {
            "status": "degraded",
            "database": "ok",
            "broker": "ok",
            "workers": "no worker seen for 312 s on queue handoff",
        },
    )


@needs_redis_server
def test_healthz_is_degraded_when_no_worker_was_ever_seen(client, own_broker):
    status, body = health(client)
    assert (status, body["status"]) == (200, "degraded")
    assert body["workers"] == "no worker seen on queue handoff; no worker seen on queue bulk"


@needs_redis_server
def test_healthz_stays_200_but_degraded_while_only_the_broker_is_down(
    client, own_broker, workers_seen
):
    own_broker.stop()
    assert health(client) == (
        200,
        {"status": "degraded", "database": "ok", "broker": "down", "workers": "ok"},
    )


@needs_redis_server
def test_healthz_answers_within_a_second_while_the_broker_is_stalled(
    client, own_broker, workers_seen
):
    own_broker.pause()
    started = time.monotonic()
    assert health(client) == (
        200,
        {"status": "degraded", "database": "ok", "broker": "down", "workers": "ok"},
    )
    assert time.monotonic() - started < 1


@needs_redis_server
def test_healthz_answers_503_when_the_database_does_not(client, own_broker):
    with mock.patch("portal.accounts.views.connection.cursor", side_effect=DatabaseError):
        assert health(client) == (
            503,
            {"status": "down", "database": "down", "broker": "ok", "workers": "unknown"},
        )


@override_settings(CELERY_BROKER_URL="")
def test_deploy_check_warns_when_tasks_would_run_in_requests():
    assert [message.id for message in broker_configured(None)] == ["handoff.W001"]
    assert isinstance(broker_configured(None)[0], checks.Warning)


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
def test_deploy_check_is_quiet_with_a_broker():
    assert broker_configured(None) == []


def test_the_favicon_is_linked_from_every_page_and_served_at_the_root(client):
    page = client.get(reverse("login")).content.decode()
    assert '<link rel="icon" href="/static/favicon.ico"' in page
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.ico"
    with open(finders.find("favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file
