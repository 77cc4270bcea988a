"""The whole handoff through a real Celery worker process, over Redis, into PostgreSQL."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from leads.inbox.services import lead_lose
from leads.models import Lead, LostReason, Stage
from portal.accounts.roles import Role
from tests.conftest import needs_redis_server
from tests.factories import (
    AgreementFactory,
    FormFactory,
    LeadFactory,
    UserFactory,
    queue_with_reps,
)
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


def test_a_rep_with_room_again_gets_a_pooled_lead_from_the_handoff_worker_alone(worker):
    # No bulk worker runs here: an import or a re-scoring on the bulk queue cannot hold the
    # release up. The pooled lead is not due for the sweep for an hour.
    rep = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(rep, capacity_per_rep=1)
    held = LeadFactory(stage=Stage.ACCEPTED, owner=rep, queue=queue)
    later = timezone.now() + timedelta(hours=1)
    pooled = LeadFactory(stage=Stage.QUALIFIED, queue=queue, route_due_at=later)

    lead_lose(lead=held, by=rep, reason=LostReason.PRICE)

    wait_for(lambda: Lead.objects.get(pk=pooled.pk).owner_id == rep.pk, seconds=60, log=worker)
    assert "Task routing.release_pools" in worker.read_text()
