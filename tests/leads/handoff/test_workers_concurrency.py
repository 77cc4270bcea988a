"""Four real worker processes draining one backlog: every lead judged and assigned once, and
round robin balanced, against PostgreSQL's locks (SKIP LOCKED claims, locked queues)."""

from collections import Counter

import pytest
from django.db.models import Count

from leads.handoff import tasks
from leads.models import Lead, LeadEvent, Stage, Submission
from leads.routing.models import Assignment
from portal.accounts.roles import Role
from scoring.models import Qualification
from tests.conftest import needs_redis_server
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps
from tests.leads.handoff.conftest import start_worker, stop_worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    needs_redis_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LEADS = 2000


def test_four_workers_route_two_thousand_leads_each_exactly_once(own_broker, tmp_path):
    AgreementFactory()
    reps = UserFactory.create_batch(5, role=Role.SALES_REP)
    queue_with_reps(*reps)
    form = FormFactory()
    leads = Lead.objects.bulk_create(
        Lead(email=f"lead{n}@acme.example", source_form=form, attributes={"company_size": 80})
        for n in range(LEADS)
    )
    Submission.objects.bulk_create(Submission(form=form, lead=lead, payload={}) for lead in leads)
    for _ in range(8):  # several messages, so all four workers wake and race for the rows
        tasks.hand_off.delay()

    log = tmp_path / "workers.log"
    # Small batches, so the workers take many turns against each other.
    workers = [start_worker(own_broker.url, log, HANDOFF_BATCH="40") for _ in range(4)]
    try:
        wait_for(
            lambda: Lead.objects.filter(stage=Stage.ROUTED).count() == LEADS, seconds=180, log=log
        )
    finally:
        for worker in workers:
            stop_worker(worker)

    assert Qualification.objects.count() == LEADS
    assert not Assignment.objects.values("lead").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assigned_events = LeadEvent.objects.filter(kind=LeadEvent.Kind.ASSIGNED)
    assert assigned_events.count() == LEADS
    shares = Counter(Lead.objects.values_list("owner", flat=True))
    assert set(shares) == {rep.pk for rep in reps}
    assert max(shares.values()) - min(shares.values()) <= 1
    assert "handoff.hand_off" in log.read_text()
