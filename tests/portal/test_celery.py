"""portal/celery.py: a worker leaves a heartbeat when it takes a task (/healthz/ reads it)."""

import pytest
from django.utils import timezone

from leads.handoff.tasks import hand_off
from portal import celery as portal_celery
from portal.health.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(monkeypatch):
    monkeypatch.setattr(portal_celery, "_noted_at", {})
    task = hand_off._get_current_object()

    def started_by(hostname: str, *, eager: bool = False) -> None:
        task.push_request(hostname=hostname, is_eager=eager)
        try:
            portal_celery.note_the_worker(sender=task)
        finally:
            task.pop_request()

    return started_by


def test_a_worker_notes_the_queue_it_took_a_task_from_and_when(task):
    before = timezone.now()
    task("handoff@web-1")
    heartbeat = WorkerHeartbeat.objects.get()
    assert (heartbeat.queue, heartbeat.worker) == ("handoff", "handoff@web-1")
    assert before <= heartbeat.seen_at <= timezone.now()


def test_a_worker_process_notes_a_queue_at_most_every_heartbeat_seconds(
    task, django_assert_num_queries, monkeypatch
):
    task("handoff@web-1")
    with django_assert_num_queries(0):
        task("handoff@web-1")
    clock = portal_celery.time.monotonic() + portal_celery.HEARTBEAT_SECONDS
    monkeypatch.setattr(portal_celery.time, "monotonic", lambda: clock)
    with django_assert_num_queries(1):
        task("handoff@web-2")
    assert WorkerHeartbeat.objects.get().worker == "handoff@web-2"


def test_a_task_run_in_process_is_no_sign_of_a_worker(task):
    task("handoff@web-1", eager=True)
    assert not WorkerHeartbeat.objects.exists()


def test_a_worker_loads_the_url_patterns_before_it_freezes_what_it_loaded():
    """A task's first `reverse` must not import every view module (0.6 s of the first
    escalation batch): the worker builds the URL index at start, then freezes it."""
    import gc

    from django.urls import clear_url_caches, get_resolver

    clear_url_caches()
    try:
        portal_celery.freeze_what_the_worker_loaded()
        assert get_resolver()._populated
    finally:
        gc.unfreeze()
