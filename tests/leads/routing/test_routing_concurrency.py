"""Round robin and capacity under real concurrent workers, against PostgreSQL's locks."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from leads.models import Lead, Stage
from leads.routing.models import Assignment
from leads.routing.services import lead_route
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory, one_of, queue_with_reps

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def route_in_threads(lead_ids: list[int], threads: int = 8) -> None:
    def route(lead_id: int):
        try:
            return lead_route(lead_id=lead_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(route, lead_ids))


def test_concurrent_routing_gives_every_rep_an_equal_share():
    reps = UserFactory.create_batch(4, role=Role.SALES_REP)
    queue_with_reps(*reps)
    leads = LeadFactory.create_batch(40, stage=Stage.QUALIFIED)

    route_in_threads([lead.pk for lead in leads])

    assert Counter(Lead.objects.values_list("owner", flat=True)) == {rep.pk: 10 for rep in reps}
    assert Assignment.objects.count() == 40


def test_concurrent_routing_never_overfills_a_rep():
    reps = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue_with_reps(*reps, capacity_per_rep=2)
    leads = LeadFactory.create_batch(12, stage=Stage.QUALIFIED)

    route_in_threads([lead.pk for lead in leads])

    assert Lead.objects.filter(stage=Stage.ROUTED).count() == 6
    assert Lead.objects.filter(stage=Stage.QUALIFIED).count() == 6
    assert set(
        Counter(Lead.objects.exclude(owner=None).values_list("owner", flat=True)).values()
    ) == {2}


def test_the_same_lead_routed_by_two_workers_at_once_is_assigned_once():
    queue_with_reps(*UserFactory.create_batch(2, role=Role.SALES_REP))
    lead = LeadFactory(stage=Stage.QUALIFIED)

    route_in_threads([lead.pk] * 8)

    assert Assignment.objects.filter(lead=lead).count() == 1
    assert lead.events.filter(to_stage=Stage.ROUTED).count() == 1


def test_a_rep_in_two_queues_never_gets_more_than_their_capacity():
    # Each trial: one rep with room for one lead sits in two queues; two leads, one for each
    # queue, are routed at the same moment. Counting the rep's open leads under each queue's
    # own lock let both through (19 of 25 trials before the reps were locked too).
    for trial in range(10):
        rep = UserFactory(role=Role.SALES_REP)
        queue_with_reps(rep, conditions=one_of("trial", [f"{trial}a"]), capacity_per_rep=1)
        queue_with_reps(rep, conditions=one_of("trial", [f"{trial}b"]), capacity_per_rep=1)
        leads = [
            LeadFactory(stage=Stage.QUALIFIED, attributes={"trial": f"{trial}{side}"})
            for side in "ab"
        ]
        start = Barrier(2)

        def route(lead_id: int, start=start):
            try:
                start.wait()
                return lead_route(lead_id=lead_id)
            finally:
                connection.close()

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(route, [lead.pk for lead in leads]))

        assert Lead.objects.filter(owner=rep).count() == 1, f"trial {trial}"
        assert (
            Lead.objects.filter(pk__in=[lead.pk for lead in leads], stage=Stage.QUALIFIED).count()
            == 1
        )
