"""A lead waiting in a queue's pool goes to a rep the moment one has room: their load drops
(a lead lost, rejected, nurtured or reassigned away), they are back, or a cap is raised. The
release runs after the commit (Celery; in-process in the tests) and is safe to run twice at
once: each waiting lead is assigned once. On PostgreSQL, with real commits."""

import datetime
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from leads.inbox.services import lead_accept, lead_lose, lead_recycle, lead_reject
from leads.models import Lead, LostReason, RejectionReason, Stage
from leads.routing import services
from leads.routing.escalation import leads_escalate
from leads.routing.models import Assignment, Availability, QueueMember
from leads.routing.services import lead_reassign, lead_route, pools_release
from portal.accounts.roles import Role
from tests.factories import AgreementFactory, LeadFactory, UserFactory, one_of, queue_with_reps

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def routed(rep, **attributes):
    lead = LeadFactory(stage=Stage.QUALIFIED, attributes=attributes)
    assignment = lead_route(lead_id=lead.pk)
    assert assignment is not None and assignment.rep == rep
    return Lead.objects.get(pk=lead.pk)


def waiting(queue, **attributes):
    lead = LeadFactory(stage=Stage.QUALIFIED, attributes=attributes)
    assert lead_route(lead_id=lead.pk) is None
    lead.refresh_from_db()
    assert (lead.stage, lead.queue_id) == (Stage.QUALIFIED, queue.pk)
    return lead


def lose(lead, rep):
    lead_accept(lead=lead, by=rep)
    lead_lose(lead=lead, by=rep, reason=LostReason.PRICE)


def reject(lead, rep):
    lead_reject(lead=lead, by=rep, reason=RejectionReason.NO_BUDGET)


def nurture(lead, rep):
    lead_accept(lead=lead, by=rep)
    lead_recycle(lead=lead, by=rep, until=timezone.localdate() + datetime.timedelta(days=30))


def reassign_away(lead, rep):
    manager = UserFactory(role=Role.SALES_MANAGER)
    other = UserFactory(role=Role.SALES_REP)
    lead_reassign(lead=lead, to_rep=other, by=manager, reason="Speaks German.")


@pytest.mark.parametrize("free", [lose, reject, nurture, reassign_away])
def test_a_rep_whose_load_drops_takes_the_longest_waiting_lead_at_once(free):
    ana = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(ana, capacity_per_rep=1)
    held = routed(ana)
    first, second = waiting(queue), waiting(queue)

    free(held, ana)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.stage, first.owner) == (Stage.ROUTED, ana)  # no sweep needed
    assert (second.stage, second.owner) == (Stage.QUALIFIED, None)  # ana is full again


def test_a_lead_waiting_in_a_higher_queues_pool_goes_to_a_freed_rep_of_a_lower_queue():
    paused, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    Availability.objects.create(rep=paused, paused=True)
    brazil = queue_with_reps(paused, priority=1, conditions=one_of("country", ["BR"]))
    queue_with_reps(bruno, priority=2, capacity_per_rep=1)
    held = routed(bruno, country="US")
    pooled = waiting(brazil, country="BR")

    lose(held, bruno)

    pooled.refresh_from_db()
    assert pooled.owner == bruno


def test_a_release_reads_past_waiting_leads_its_queues_do_not_take(monkeypatch):
    monkeypatch.setattr(services, "RELEASE_BATCH", 2)
    paused, carla = UserFactory.create_batch(2, role=Role.SALES_REP)
    Availability.objects.create(rep=paused, paused=True)
    brazil = queue_with_reps(paused, priority=0, conditions=one_of("country", ["BR"]))
    us = queue_with_reps(
        carla, priority=1, conditions=one_of("country", ["US"]), capacity_per_rep=1
    )
    held = routed(carla, country="US")
    for _ in range(5):  # older, and for a rep who is paused
        waiting(brazil, country="BR")
    pooled = waiting(us, country="US")

    lose(held, carla)

    pooled.refresh_from_db()
    assert pooled.owner == carla
    assert Lead.objects.filter(stage=Stage.QUALIFIED, queue=brazil).count() == 5


def test_raising_a_reps_own_cap_releases_the_pool(client):
    ana = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(ana, name="Team", capacity_per_rep=1)
    routed(ana)
    pooled = waiting(queue)
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    answer = client.post(
        f"/queues/{queue.pk}/",
        {
            "name": "Team",
            "priority": 100,
            "is_active": "on",
            "capacity_per_rep": 1,
            "members": [ana.pk],
            f"open_cap_{ana.pk}": 2,
        },
    )
    assert answer.status_code == 302
    pooled.refresh_from_db()
    assert pooled.owner == ana


def test_releases_at_once_assign_each_waiting_lead_once_and_pass_no_cap():
    reps = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue = queue_with_reps(*reps, capacity_per_rep=2)
    held = [routed(rep) for rep in reps + reps]
    pooled = [waiting(queue) for _ in range(10)]
    # Three leads closed behind routing's back (no release asked): room for three.
    Lead.objects.filter(pk__in=[lead.pk for lead in held[:3]]).update(stage=Stage.LOST)
    start = Barrier(8)

    def release(_):
        try:
            start.wait()
            return pools_release(queue_ids=[queue.pk])
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        assigned = sum(pool.map(release, range(8)))

    assert assigned == 3
    taken = Lead.objects.filter(pk__in=[lead.pk for lead in pooled], stage=Stage.ROUTED)
    assert sorted(taken.values_list("pk", flat=True)) == [lead.pk for lead in pooled[:3]]
    per_lead = Assignment.objects.filter(lead__in=pooled).values_list("lead_id", flat=True)
    assert len(per_lead) == len(set(per_lead)) == 3
    for rep in reps:
        assert Lead.objects.filter(owner=rep, stage=Stage.ROUTED).count() <= 2
    assert QueueMember.objects.filter(queue=queue).count() == 3


def test_a_release_with_nobody_free_leaves_the_pool_to_the_sweep():
    ana = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(ana, capacity_per_rep=1)
    routed(ana)
    pooled = waiting(queue)
    assert pools_release(queue_ids=[queue.pk]) == 0
    pooled.refresh_from_db()
    assert (pooled.stage, pooled.queue) == (Stage.QUALIFIED, queue)
    assert pooled.route_due_at is not None  # the sweep tries it again


def test_a_rep_the_ladder_takes_a_breached_lead_from_takes_a_waiting_one():
    berlin = ZoneInfo("Europe/Berlin")
    AgreementFactory(
        time_zone="Europe/Berlin",
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        accept_within_minutes=60,
    )
    ana = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(ana, capacity_per_rep=1, manager=UserFactory(role=Role.SALES_MANAGER))
    with time_machine.travel(datetime.datetime(2026, 11, 30, 9, 0, tzinfo=berlin), tick=False):
        breached = routed(ana)
        pooled = waiting(queue)

    with time_machine.travel(datetime.datetime(2026, 11, 30, 10, 5, tzinfo=berlin), tick=False):
        leads_escalate(limit=10)

    breached.refresh_from_db()
    pooled.refresh_from_db()
    assert breached.owner != ana  # the manager has it now
    assert (pooled.stage, pooled.owner) == (Stage.ROUTED, ana)
