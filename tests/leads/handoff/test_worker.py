"""The whole handoff through a real Celery worker process, over Redis, into PostgreSQL."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from leads.models import Lead, Stage
from portal import celery_app
from portal.accounts.roles import Role
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def worker(tmp_path):
    """A `celery worker` process on the test database and a queue of this run's own."""
    queue = f"leadbridge-test-{os.getpid()}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_QUEUE": queue,
    }
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo",
             "--queues", queue, "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    previous = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = False, queue
    try:
        yield log
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        process.terminate()
        process.wait(timeout=20)


def wait_for(predicate, *, seconds: float, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"Timed out after {seconds} s. Worker log:\n{log.read_text()}")


def test_submission_is_scored_and_routed_by_a_real_worker(client, worker):
    form = FormFactory()
    AgreementFactory()
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep, name="Everyone")

    response = client.post(
        reverse("capture:form", kwargs={"slug": form.slug}),
        {"email": "ana@acme.example", "company_size": "120"},
    )
    assert response.status_code == 302
    # The response came back before any worker touched the lead.
    lead = Lead.objects.get(email="ana@acme.example")

    wait_for(lambda: Lead.objects.get(pk=lead.pk).stage == Stage.ROUTED, seconds=60, log=worker)
    lead.refresh_from_db()
    assert lead.owner == rep
    assert list(lead.events.exclude(to_stage="").values_list("to_stage", flat=True)) == [
        Stage.CAPTURED,
        Stage.QUALIFIED,
        Stage.ROUTED,
    ]
    assert lead.qualifications.get().results.get().passed
    log = worker.read_text()
    assert "Task handoff.qualify_submission" in log
    assert "Task handoff.route_lead" in log
