import pytest
from django.contrib.auth.models import Group

from leads.models import LeadEvent, Stage
from leads.routing.models import Assignment
from leads.routing.services import lead_route
from portal.accounts.roles import Role
from tests.factories import (
    LeadFactory,
    UserFactory,
    one_of,
    queue_with_reps,
)

pytestmark = pytest.mark.django_db


def qualified_lead(**attributes):
    lead = LeadFactory(stage=Stage.QUALIFIED)
    lead.attributes.update(attributes)
    lead.save(update_fields=["attributes"])
    return lead


def test_round_robin_takes_turns_and_wraps():
    reps = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue = queue_with_reps(*reps)
    owners = [lead_route(lead_id=qualified_lead().pk).rep for _ in range(7)]
    assert owners == [reps[0], reps[1], reps[2], reps[0], reps[1], reps[2], reps[0]]
    queue.refresh_from_db()
    assert queue.last_position == 0


def test_routing_assigns_records_and_moves_the_lead():
    rep = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(rep, name="Brazil")
    lead = qualified_lead()
    assignment = lead_route(lead_id=lead.pk)
    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.queue) == (Stage.ROUTED, rep, queue)
    assert (assignment.lead, assignment.queue, assignment.rep) == (lead, queue, rep)
    moved, assigned = lead.events.order_by("id")
    assert (moved.kind, moved.from_stage, moved.to_stage, moved.actor) == (
        LeadEvent.Kind.STAGE_CHANGED,
        Stage.QUALIFIED,
        Stage.ROUTED,
        None,
    )
    assert moved.reason == "Queue Brazil took the lead."
    assert assigned.kind == LeadEvent.Kind.ASSIGNED
    assert (assigned.data["queue"], assigned.data["rep"]) == (queue.pk, rep.pk)
    assert assigned.data["why"] == {
        "queue": "Brazil",
        "strategy": "round_robin",
        "passed_over": [],
        "skipped": [],
        "credited": False,
    }
    assert assigned.reason == f"Round robin in queue Brazil assigned the lead to {rep}."
    assert moved.id < assigned.id


def test_queue_rule_sends_the_lead_to_the_first_queue_that_takes_it():
    brazil_rep, world_rep = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue_with_reps(brazil_rep, priority=1, conditions=one_of("country", ["Brazil"]))
    queue_with_reps(world_rep, priority=2)
    assert lead_route(lead_id=qualified_lead(country="brazil").pk).rep == brazil_rep
    assert lead_route(lead_id=qualified_lead(country="Chile").pk).rep == world_rep


def test_full_reps_are_skipped_and_a_full_queue_leaves_the_lead_qualified():
    busy, free = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue_with_reps(busy, free, capacity_per_rep=1)
    LeadFactory(stage=Stage.ROUTED, owner=busy)
    assert lead_route(lead_id=qualified_lead().pk).rep == free
    waiting = qualified_lead()
    assert lead_route(lead_id=waiting.pk) is None
    waiting.refresh_from_db()
    assert waiting.stage == Stage.QUALIFIED


def test_inactive_members_get_no_leads():
    away, present = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(away, present)
    queue.members.filter(rep=away).update(is_active=False)
    assert {lead_route(lead_id=qualified_lead().pk).rep for _ in range(3)} == {present}


def test_a_member_deactivated_or_no_longer_a_rep_is_passed_over_and_kept():
    deactivated, moved, present = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue = queue_with_reps(deactivated, moved, present)
    deactivated.is_active = False
    deactivated.save(update_fields=["is_active"])
    moved.groups.set([Group.objects.get(name=Role.MARKETER.value)])  # now in marketing

    assert {lead_route(lead_id=qualified_lead().pk).rep for _ in range(3)} == {present}
    assert queue.members.count() == 3


def test_routing_an_already_routed_lead_does_nothing():
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    lead = qualified_lead()
    lead_route(lead_id=lead.pk)
    assert lead_route(lead_id=lead.pk) is None
    assert Assignment.objects.count() == 1
    assert lead.events.count() == 2


def test_routing_a_deleted_lead_returns_quietly():
    assert lead_route(lead_id=987654) is None


def _open_lead_counts(queries) -> int:
    return sum('COUNT("leads_lead"."id")' in q["sql"] for q in queries)


@pytest.mark.parametrize(("capacity", "counts"), [(None, 0), (5, 1)])
def test_open_leads_are_counted_only_when_a_queue_has_a_capacity(
    capacity, counts, django_assert_max_num_queries
):
    # Counting reads every open lead the reps hold: a cost that grows with the leads, paid
    # per routing batch, needed only to enforce a capacity.
    queue_with_reps(UserFactory(role=Role.SALES_REP), capacity_per_rep=capacity)
    lead = qualified_lead()
    with django_assert_max_num_queries(100) as captured:
        assert lead_route(lead_id=lead.pk) is not None
    assert _open_lead_counts(captured.captured_queries) == counts
