"""The queues' strategies, caps and availability: who gets the next lead, and who is skipped."""

import datetime

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from leads.models import Stage
from leads.routing import strategies
from leads.routing.models import Absence, Availability, Queue, QueueMember
from leads.routing.services import leads_route, queue_save
from leads.routing.strategies import Member
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory, queue_with_reps

# A Tuesday, 11:00 UTC.
TUESDAY = datetime.datetime(2026, 12, 8, 11, 0, tzinfo=datetime.UTC)


def deal(strategy, members, n, **caps):
    """Hand out `n` leads one by one as routing does; the rep ids in order."""
    cursor, owners = -1, []
    for _ in range(n):
        chosen = strategies.pick(strategy, members, cursor=cursor, **caps)
        if chosen.member is None:
            owners.append(None)
            continue
        strategies.take(chosen.member, chosen)
        cursor = chosen.member.position
        owners.append(chosen.member.rep_id)
    return owners


def test_round_robin_goes_in_turn_from_the_cursor():
    members = [Member(rep_id=r, position=p) for p, r in enumerate([10, 11, 12])]
    assert deal(strategies.ROUND_ROBIN, members, 5) == [10, 11, 12, 10, 11]


def test_weighted_shares_hold_within_two_percent_over_ten_thousand_leads():
    weights = {1: 1, 2: 2, 3: 3, 4: 4}
    members = [Member(rep_id=r, position=r, weight=w) for r, w in weights.items()]
    owners = deal(strategies.WEIGHTED, members, 10_000)
    for rep, weight in weights.items():
        share = owners.count(rep) / 10_000
        assert abs(share - weight / 10) <= 0.02 * weight / 10  # within ±2 % of its share


@given(st.lists(st.integers(1, 20), min_size=1, max_size=8), st.integers(1, 400))
def test_weighted_never_strays_more_than_one_lead_from_any_share(weights, n):
    members = [Member(rep_id=i, position=i, weight=w) for i, w in enumerate(weights)]
    owners = deal(strategies.WEIGHTED, members, n)
    total = sum(weights)
    for i, w in enumerate(weights):
        assert abs(owners.count(i) - n * w / total) <= len(weights)


def test_least_loaded_gives_the_rep_with_fewest_open_leads_ties_in_turn():
    members = [
        Member(rep_id=1, position=0, open_leads=3),
        Member(rep_id=2, position=1, open_leads=1),
        Member(rep_id=3, position=2, open_leads=1),
    ]
    assert deal(strategies.LEAST_LOADED, members, 5) == [2, 3, 2, 3, 1]


def test_a_member_at_a_cap_or_unavailable_is_skipped_and_says_why():
    members = [
        Member(rep_id=1, position=0, open_leads=2),
        Member(rep_id=2, position=1, today=5),
        Member(rep_id=3, position=2, unavailable=strategies.AWAY),
        Member(rep_id=4, position=3),
    ]
    chosen = strategies.pick(strategies.ROUND_ROBIN, members, cursor=-1, max_open=2, max_per_day=5)
    assert chosen.member.rep_id == 4
    assert [(m.rep_id, why) for m, why in chosen.skipped] == [
        (1, strategies.AT_CAP),
        (2, strategies.DAY_CAP),
        (3, strategies.AWAY),
    ]


def test_a_rep_owed_a_credit_gets_the_next_lead_whatever_the_strategy():
    members = [Member(rep_id=1, position=0), Member(rep_id=2, position=1, credits=1)]
    assert deal(strategies.ROUND_ROBIN, members, 3) == [2, 1, 2]


@pytest.mark.parametrize(
    ("settings", "absences", "expected"),
    [
        ({}, [], None),
        ({"paused": True}, [], strategies.PAUSED),
        ({}, [(datetime.date(2026, 12, 7), datetime.date(2026, 12, 11))], strategies.AWAY),
        ({}, [(datetime.date(2026, 12, 9), datetime.date(2026, 12, 11))], None),
        ({"work_days": [0, 2, 3, 4]}, [], strategies.OFF_HOURS),
        ({"starts": datetime.time(9), "ends": datetime.time(17)}, [], None),
        # 11:00 UTC is 08:00 in São Paulo: before the rep's day starts.
        (
            {
                "time_zone": "America/Sao_Paulo",
                "starts": datetime.time(9),
                "ends": datetime.time(17),
            },
            [],
            strategies.OFF_HOURS,
        ),
    ],
)
def test_availability(settings, absences, expected):
    assert strategies.unavailable(now=TUESDAY, absences=absences, **settings) == expected


# Through the service, on the database ------------------------------------------------------

pytestmark_db = pytest.mark.django_db


def qualified(n=1):
    return [LeadFactory(stage=Stage.QUALIFIED) for _ in range(n)]


@pytestmark_db
def test_a_weighted_queue_routes_by_share():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(strategy=Queue.Strategy.WEIGHTED)
    queue_save(queue=queue, reps=[ana, bruno], weights={ana.pk: 1, bruno.pk: 2})
    assignments = leads_route(leads=qualified(30))
    owners = [a.rep for a in assignments]
    assert (owners.count(ana), owners.count(bruno)) == (10, 20)
    passes = dict(QueueMember.objects.values_list("rep", "stride_pass"))
    assert passes[ana.pk] == pytest.approx(10) and passes[bruno.pk] == pytest.approx(10)


@pytestmark_db
def test_a_rep_joining_a_weighted_queue_starts_level_not_owed_every_lead():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(ana, strategy=Queue.Strategy.WEIGHTED)
    leads_route(leads=qualified(10))
    queue_save(queue=queue, reps=[ana, bruno])
    owners = [a.rep for a in leads_route(leads=qualified(4))]
    assert owners.count(ana) == 2 and owners.count(bruno) == 2


@pytestmark_db
def test_a_least_loaded_queue_gives_the_lead_to_whoever_holds_fewest():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    LeadFactory.create_batch(2, stage=Stage.ACCEPTED, owner=ana)
    queue_with_reps(ana, bruno, strategy=Queue.Strategy.LEAST_LOADED)
    owners = [a.rep for a in leads_route(leads=qualified(3))]
    assert owners == [bruno, bruno, ana]  # 0 < 2, 1 < 2, then 2 = 2: ana's turn


@pytestmark_db
def test_the_day_cap_counts_the_leads_a_rep_got_from_the_queue_today():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue_with_reps(ana, bruno, daily_cap_per_rep=2)
    owners = [a.rep for a in leads_route(leads=qualified(5))]
    assert owners == [ana, bruno, ana, bruno]  # the fifth waits


@pytestmark_db
def test_paused_away_and_off_hours_reps_are_skipped_and_the_explanation_says_so():
    paused, away, off, free = UserFactory.create_batch(4, role=Role.SALES_REP)
    Availability.objects.create(rep=paused, paused=True)
    Absence.objects.create(
        rep=away, first_day=datetime.date(2026, 12, 1), last_day=datetime.date(2026, 12, 24)
    )
    Availability.objects.create(rep=off, starts=datetime.time(13), ends=datetime.time(18))
    queue_with_reps(paused, away, off, free, name="Team")
    with time_machine.travel(TUESDAY, tick=False):
        (assignment,) = leads_route(leads=qualified())
    assert assignment.rep == free
    why = assignment.lead.events.get(kind="assigned").data["why"]
    assert [(s["rep"], s["why"]) for s in why["skipped"]] == [
        (paused.pk, "paused"),
        (away.pk, "away"),
        (off.pk, "outside_hours"),
    ]


@pytestmark_db
def test_a_lead_passes_over_a_higher_queue_whose_reps_cannot_take_it_and_the_event_says_so():
    busy, other = UserFactory.create_batch(2, role=Role.SALES_REP)
    Availability.objects.create(rep=busy, paused=True)
    queue_with_reps(busy, name="Priority five", priority=5)
    queue_with_reps(other, name="Everyone", priority=10)
    (assignment,) = leads_route(leads=qualified())
    assert assignment.rep == other
    why = assignment.lead.events.get(kind="assigned").data["why"]
    assert why["passed_over"][0]["queue"] == "Priority five"
    assert why["passed_over"][0]["why"] == "no_rep"
    assert why["passed_over"][0]["skipped"][0]["why"] == "paused"
