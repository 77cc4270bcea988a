"""The whole handoff through a real Celery worker process, over Redis, into PostgreSQL."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from leads.models import Lead, Stage
from portal.accounts.roles import Role
from tests.conftest import needs_redis_server
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps
from tests.leads.handoff.conftest import wait_for

pytestmark = [
    pytest.mark.postgres,
    needs_redis_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


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
    assert "Task handoff.hand_off" in log

    status = StringIO()
    call_command("pipeline_status", stdout=status)
    assert "unrouted leads:       0" in status.getvalue()
    assert "workers: 1 (celery@" in status.getvalue()
