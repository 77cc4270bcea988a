"""A worker SIGKILLed mid-backlog: its unacknowledged messages come back after the broker's
visibility timeout, and every lead is still assigned exactly once.

The worker (prefork, 2 processes, as in production) runs with CELERY_TASK_TIME_LIMIT=6, so
Redis's visibility timeout (twice the limit) is 12 s and the test stays short, and with small
batches, so that it is killed inside one. Nothing plays beat here: what finishes the work is
the messages the broker gives back and those still queued, when a new worker starts.
"""

import os
import signal
import time

import pytest
import redis
from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from leads.models import Lead, LeadEvent, Stage, Submission
from leads.routing.models import Assignment
from portal.accounts.roles import Role
from tests.conftest import needs_redis_server
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps
from tests.leads.handoff.conftest import start_worker, stop_worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    needs_redis_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LEADS = 3000
TIME_LIMIT = 6
VISIBILITY_TIMEOUT = 2 * TIME_LIMIT


def routed() -> int:
    return Lead.objects.filter(stage=Stage.ROUTED).count()


def test_every_lead_is_assigned_once_after_a_worker_is_killed_mid_backlog(
    client, own_broker, tmp_path
):
    form = FormFactory()
    AgreementFactory()
    reps = [UserFactory(role=Role.SALES_REP) for _ in range(3)]
    queue_with_reps(*reps, name="Everyone")
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    for n in range(20):  # through the intake, each with its message
        body = {"email": f"posted-{n}@acme.example", "company_size": "120"}
        assert client.post(url, body, content_type="application/json").status_code == 201
    leads = Lead.objects.bulk_create(  # and a backlog too long to finish before the kill
        Lead(email=f"lead-{n}@acme.example", source_form=form, attributes={"company_size": 80})
        for n in range(LEADS - 20)
    )
    Submission.objects.bulk_create(Submission(form=form, lead=lead, payload={}) for lead in leads)

    log = tmp_path / "worker.log"
    # The e-mails' quiet window must stay under the visibility timeout this short limit makes
    # (settings refuse to start otherwise); this test sends no e-mail.
    env = {
        "CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT),
        "HANDOFF_BATCH": "50",
        "NOTIFICATION_EMAIL_QUIET_SECONDS": "0",
    }
    first = start_worker(own_broker.url, log, pool="prefork", concurrency=2, **env)
    try:
        wait_for(lambda: routed() >= LEADS // 10, seconds=30, log=log)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop_worker(first)
    killed_at = time.monotonic()
    broker = redis.Redis.from_url(own_broker.url)
    in_flight = broker.hlen("unacked")
    assert routed() < LEADS, "the backlog was done before the kill; post more leads"
    assert in_flight > 0, "the worker held no unacknowledged message when it was killed"

    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 0.5 - (time.monotonic() - killed_at)))
    second = start_worker(own_broker.url, log, pool="prefork", concurrency=2, **env)
    try:
        wait_for(lambda: routed() == LEADS, seconds=60, log=log)
        wait_for(lambda: broker.hlen("unacked") == 0, seconds=10, log=log)
    finally:
        stop_worker(second)

    per_lead = Assignment.objects.values("lead").annotate(n=Count("pk"))
    assert sorted(row["n"] for row in per_lead) == [1] * LEADS
    assigned = LeadEvent.objects.filter(kind=LeadEvent.Kind.ASSIGNED)
    assert assigned.values("lead").distinct().count() == LEADS
    assert assigned.count() == LEADS
    assert broker.llen(settings.CELERY_HANDOFF_QUEUE) == 0
