"""`manage.py pipeline_status`: the backlog in the database and the broker, never hanging."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from leads.handoff import outbox, tasks
from leads.models import Stage, Submission
from portal.health.heartbeats import worker_seen
from tests.conftest import needs_redis_server
from tests.factories import FormFactory, LeadFactory

pytestmark = pytest.mark.django_db


def pipeline_status() -> str:
    output = StringIO()
    call_command("pipeline_status", "--ping-timeout", "0.3", stdout=output)
    return output.getvalue()


@pytest.fixture
def backlog(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    form = FormFactory()
    lead = LeadFactory(stage=Stage.CAPTURED)
    Submission.objects.create(form=form, lead=lead, payload={})
    time_machine.shift(timedelta(minutes=5))
    Submission.objects.create(form=form, lead=lead, payload={})
    LeadFactory(stage=Stage.QUALIFIED, stage_changed_at=timezone.now() - timedelta(seconds=42))
    LeadFactory(stage=Stage.ROUTED)


@override_settings(CELERY_BROKER_URL="")
def test_it_counts_unscored_and_unrouted_work_with_the_age_of_the_oldest(backlog):
    output = pipeline_status()
    assert "unscored submissions: 2, oldest 5 min" in output
    assert "unrouted leads:       1, oldest 42 s" in output
    assert "broker: not configured" in output


@override_settings(CELERY_BROKER_URL="")
def test_it_says_zero_when_nothing_waits():
    assert "unscored submissions: 0\nunrouted leads:       0\n" in pipeline_status()


@needs_redis_server
def test_it_shows_the_queue_lengths_and_that_no_worker_answered(own_broker):
    assert outbox.publish(tasks.hand_off)
    assert outbox.publish(tasks.hand_off)
    output = pipeline_status()
    assert "broker: ok" in output
    assert "queue handoff: 2 waiting" in output
    assert "queue bulk: 0 waiting" in output
    assert "workers: none answered" in output


@needs_redis_server
@pytest.mark.parametrize("fault", ["stop", "pause"])
def test_it_answers_at_once_and_says_the_broker_is_down(own_broker, fault, backlog):
    getattr(own_broker, fault)()
    started = time.monotonic()
    output = pipeline_status()
    assert time.monotonic() - started < 2
    assert "unscored submissions: 2" in output
    assert "broker: down" in output


@pytest.fixture
def frozen_clock(time_machine, monkeypatch):
    """The clock stands still, so the ages are exact; the workers' ping, which would wait for
    the clock forever, answers at once."""
    time_machine.move_to(timezone.now(), tick=False)
    monkeypatch.setattr("portal.broker.workers_seen", lambda timeout: [])


@needs_redis_server
@override_settings(LEADBRIDGE_WORKER_SEEN_WITHIN_SECONDS=180)
def test_it_says_ok_when_a_worker_took_a_task_from_each_queue_lately(own_broker, frozen_clock):
    worker_seen(queue="handoff", worker="handoff@a", at=timezone.now() - timedelta(seconds=7))
    worker_seen(queue="bulk", worker="bulk@a", at=timezone.now() - timedelta(seconds=170))
    output = pipeline_status()
    assert "queue handoff: worker seen 7 s ago (handoff@a)" in output
    assert "queue bulk: worker seen 170 s ago (bulk@a)" in output
    assert output.endswith("status: ok\n")


@needs_redis_server
@override_settings(LEADBRIDGE_WORKER_SEEN_WITHIN_SECONDS=180)
def test_it_says_degraded_when_no_worker_was_seen_for_too_long(own_broker, frozen_clock):
    worker_seen(queue="handoff", worker="handoff@a", at=timezone.now() - timedelta(seconds=181))
    output = pipeline_status()
    assert "queue handoff: no worker seen for 181 s on queue handoff" in output
    assert "queue bulk: no worker seen on queue bulk" in output
    assert output.endswith(
        "status: degraded (no worker seen for 181 s on queue handoff; "
        "no worker seen on queue bulk)\n"
    )


@needs_redis_server
def test_it_says_when_workers_were_last_seen_while_the_broker_is_down(own_broker, frozen_clock):
    worker_seen(queue="handoff", worker="handoff@a", at=timezone.now() - timedelta(seconds=3))
    worker_seen(queue="bulk", worker="bulk@a", at=timezone.now() - timedelta(seconds=4))
    own_broker.stop()
    output = pipeline_status()
    assert "queue handoff: worker seen 3 s ago (handoff@a)" in output
    assert output.endswith("status: degraded (broker down)\n")
