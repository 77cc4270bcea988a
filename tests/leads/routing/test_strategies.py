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


def test_a_members_own_caps_replace_the_queues_for_them_alone():
    members = [
        Member(rep_id=1, position=0, open_leads=4, own_max_open=5),  # room under their own
        Member(rep_id=2, position=1, open_leads=1, own_max_open=1),  # full under their own
        Member(rep_id=3, position=2, today=1, own_max_per_day=1),
        Member(rep_id=4, position=3, open_leads=2),  # the queue's cap: full
    ]
    assert strategies.why_not(members[0], max_open=2, max_per_day=None) is None
    assert strategies.why_not(members[1], max_open=2, max_per_day=None) == strategies.AT_CAP
    assert strategies.why_not(members[2], max_open=2, max_per_day=9) == strategies.DAY_CAP
    assert strategies.why_not(members[3], max_open=2, max_per_day=None) == strategies.AT_CAP
    assert deal(strategies.ROUND_ROBIN, members, 3, max_open=2) == [1, None, None]


def skipped_ids(strategy, members, cursor=-1):
    chosen = strategies.pick(strategy, members, cursor=cursor)
    return chosen.member.rep_id, [(m.rep_id, why) for m, why in chosen.skipped]


def test_round_robin_lists_only_the_reps_passed_over_before_the_one_chosen():
    members = [
        Member(rep_id=1, position=0, unavailable=strategies.PAUSED),
        Member(rep_id=2, position=1, unavailable=strategies.AWAY),
        Member(rep_id=3, position=2),
        Member(rep_id=4, position=3, unavailable=strategies.OFF_HOURS),  # after the turn
    ]
    assert skipped_ids(strategies.ROUND_ROBIN, members, cursor=0) == (3, [(2, strategies.AWAY)])
    assert skipped_ids(strategies.ROUND_ROBIN, members, cursor=2) == (
        3,
        [(4, strategies.OFF_HOURS), (1, strategies.PAUSED), (2, strategies.AWAY)],
    )


def test_weighted_and_least_loaded_list_only_who_was_in_line_before_the_one_chosen():
    weighted = [
        Member(rep_id=1, position=0, stride_pass=0.5, unavailable=strategies.AWAY),  # in line
        Member(rep_id=2, position=1, stride_pass=1.0),
        Member(rep_id=3, position=2, stride_pass=2.0, unavailable=strategies.PAUSED),  # behind
    ]
    assert skipped_ids(strategies.WEIGHTED, weighted) == (2, [(1, strategies.AWAY)])
    loaded = [
        Member(rep_id=1, position=0, open_leads=5, unavailable=strategies.AWAY),  # behind
        Member(rep_id=2, position=1, open_leads=2),
        Member(rep_id=3, position=2, open_leads=0, unavailable=strategies.OFF_HOURS),  # in line
    ]
    assert skipped_ids(strategies.LEAST_LOADED, loaded) == (2, [(3, strategies.OFF_HOURS)])


def test_a_credit_jumps_the_line_so_nobody_behind_it_was_passed_over():
    members = [
        Member(rep_id=1, position=0, unavailable=strategies.PAUSED),
        Member(rep_id=2, position=1, credits=1, unavailable=strategies.AWAY),  # owed, away
        Member(rep_id=3, position=2, credits=1),
    ]
    chosen = strategies.pick(strategies.ROUND_ROBIN, members, cursor=-1)
    assert chosen.credited and chosen.member.rep_id == 3
    assert [(m.rep_id, why) for m, why in chosen.skipped] == [(2, strategies.AWAY)]


member_states = st.builds(
    lambda weight, stride, open_leads, credits, why: (weight, stride, open_leads, credits, why),
    st.integers(1, 5),
    st.sampled_from([0.0, 0.5, 1.0, 1.5]),
    st.integers(0, 4),
    st.sampled_from([0, 0, 0, 1]),
    st.sampled_from([None, None, strategies.AWAY, strategies.PAUSED, strategies.AT_CAP]),
)


@given(
    st.sampled_from([strategies.ROUND_ROBIN, strategies.WEIGHTED, strategies.LEAST_LOADED]),
    st.lists(member_states, min_size=1, max_size=7),
    st.integers(-1, 6),
)
def test_the_skipped_are_exactly_the_unable_who_would_have_had_the_lead_in_their_place(
    strategy, states, cursor
):
    members = [
        Member(
            rep_id=i, position=i, weight=w, stride_pass=p, open_leads=o, credits=c, unavailable=u
        )
        for i, (w, p, o, c, u) in enumerate(states)
    ]
    chosen = strategies.pick(strategy, members, cursor=cursor)
    skipped = [m.rep_id for m, _ in chosen.skipped]
    assert len(skipped) == len(set(skipped))  # nobody twice
    if chosen.member is None:
        assert sorted(skipped) == [m.rep_id for m in members if m.unavailable]
        return
    for m, _ in chosen.skipped:
        # Made able, each skipped rep would have had this lead instead.
        able = [Member(**{**_fields(x), "unavailable": None}) if x is m else x for x in members]
        instead = strategies.pick(strategy, able, cursor=cursor)
        assert instead.member.rep_id == m.rep_id
    for m in members:
        if m.unavailable and m.rep_id not in skipped:
            able = [Member(**{**_fields(x), "unavailable": None}) if x is m else x for x in members]
            assert strategies.pick(strategy, able, cursor=cursor).member.rep_id != m.rep_id


def _fields(member: Member) -> dict:
    return {name: getattr(member, name) for name in Member.__slots__}


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
