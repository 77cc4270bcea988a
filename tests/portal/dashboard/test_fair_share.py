"""The team panel's assignments against fair share, against a ledger counted by hand."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leads.routing.models import Absence, Assignment, Queue, QueueMember
from leads.routing.services import queue_save
from portal.accounts.roles import Role
from portal.dashboard.facts import facts_fresh
from portal.dashboard.selectors import Filters, fair_shares
from tests.factories import LeadFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db


def assigned(queue, rep, n, *, credited=False, days_ago=1):
    for _ in range(n):
        lead = LeadFactory(created_at=timezone.now() - timedelta(days=days_ago))
        Assignment.objects.create(lead=lead, queue=queue, rep=rep, credited=credited)


@pytest.fixture
def ledger():
    """Weighted queue W: Ana weight 2, Bo weight 1, Cy weight 5 but inactive. W gave Ana 3
    leads, Bo 3 of which 1 was credited back: 5 count, Ana's share 5 x 2/3 = 3.33, Bo's 1.67.
    Equal queue E (Ana, Bo): gave Ana 2: each's share 1. Not counted: Bo's lead of 400 days
    ago (out of the period), a manager's reassignment to Bo (no queue).

    Ana: assigned 5, fair 4.33 -> 4.3, +0.7, 115.4 %. Bo: assigned 2, credited 1, fair 2.67
    -> 2.7, -0.7, 75.0 %."""
    ana = UserFactory(first_name="Ana", last_name="A", role=Role.SALES_REP)
    bo = UserFactory(first_name="Bo", last_name="B", role=Role.SALES_REP)
    cy = UserFactory(first_name="Cy", last_name="C", role=Role.SALES_REP)
    weighted = QueueFactory(strategy=Queue.Strategy.WEIGHTED)
    for position, (rep, weight, active) in enumerate(
        [(ana, 2, True), (bo, 1, True), (cy, 5, False)]
    ):
        QueueMember.objects.create(
            queue=weighted, rep=rep, position=position, weight=weight, is_active=active
        )
    equal = QueueFactory()
    for position, rep in enumerate([ana, bo]):
        QueueMember.objects.create(queue=equal, rep=rep, position=position, weight=3)
    assigned(weighted, ana, 3)
    assigned(weighted, bo, 2)
    assigned(weighted, bo, 1, credited=True)
    assigned(equal, ana, 2)
    assigned(equal, bo, 1, days_ago=400)
    Assignment.objects.create(lead=LeadFactory(), queue=None, rep=bo)
    return ana, bo


def test_fair_share_matches_the_hand_count(ledger):
    rows = fair_shares(filters=Filters(since=timezone.now() - timedelta(days=90)))
    assert [
        (
            r["rep"],
            r["assigned"],
            r["credited"],
            r["fair_share"],
            r["difference"],
            r["of_fair_share"],
        )
        for r in rows
    ] == [("Ana A", 5, 0, 4.3, 0.7, 115.4), ("Bo B", 2, 1, 2.7, -0.7, 75.0)]


def test_the_team_section_shows_fair_share_and_its_csv_says_the_same(ledger, client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    page = client.get(reverse("dashboard"), {"period": "90"})
    table = page.context["tables"]["fair_share"]
    assert table.rows[0] == ["Ana A", 5, 0, 4.3, 0.7, 115.4]
    assert 'data-panel="fair-share"' in page.content.decode()
    csv = client.get(reverse("dashboard_csv", kwargs={"panel": "fair-share"}), {"period": "90"})
    assert "Ana A,5,0,4.3,0.7,115.4" in csv.content.decode()


def test_fair_share_is_six_queries_however_many_assignments(ledger, django_assert_num_queries):
    facts_fresh()  # what the set-up marked, folded
    # Nothing left to fold, the ledger, spells, members now, absences, names.
    with django_assert_num_queries(6):
        fair_shares(filters=Filters())


# Fair share by the members of each day: a rep who joins or leaves, or is away, mid-period.

NOON = datetime.combine(timezone.localdate(), time(12), tzinfo=UTC)


def given(queue, rep, n, *, days_ago):
    at = NOON - timedelta(days=days_ago)
    for _ in range(n):
        lead = LeadFactory(created_at=at - timedelta(minutes=5))
        Assignment.objects.create(lead=lead, queue=queue, rep=rep, assigned_at=at)


def _shares():
    rows = fair_shares(filters=Filters(since=NOON - timedelta(days=30)))
    return {r["rep"]: (r["assigned"], r["fair_share"], r["of_fair_share"]) for r in rows}


@pytest.fixture
def reps():
    return [
        UserFactory(first_name=name, last_name="R", role=Role.SALES_REP)
        for name in ("Ana", "Bo", "Cy")
    ]


def test_a_rep_who_joined_mid_period_has_no_share_of_the_days_before(reps):
    """Ana alone for days 10-6 ago: 4 leads, all her share. Bo joins 5 days ago; days 4-1
    ago: 2 each, shared equally. Ana's share 4 + 2 = 6, Bo's 2: both got their share (with
    today's members only: 4 each, Ana +2 over, Bo at 50 %)."""
    ana, bo, _ = reps
    with time_machine.travel(NOON - timedelta(days=11), tick=False):
        queue = queue_save(queue=Queue(name="Inbound"), reps=[ana])
    given(queue, ana, 4, days_ago=8)
    with time_machine.travel(NOON - timedelta(days=5), tick=False):
        queue_save(queue=queue, reps=[ana, bo])
    given(queue, ana, 2, days_ago=3)
    given(queue, bo, 2, days_ago=2)
    assert _shares() == {"Ana R": (6, 6.0, 100.0), "Bo R": (2, 2.0, 100.0)}


def test_a_rep_who_left_keeps_the_share_of_the_days_they_were_in(reps):
    """Ana, Bo and Cy for days 10-6 ago: 6 leads, 2 each. Cy leaves 5 days ago; then Ana and
    Bo share 4. Cy's share 2 (she had 2); Ana's and Bo's 2 + 2 = 4 each."""
    ana, bo, cy = reps
    with time_machine.travel(NOON - timedelta(days=11), tick=False):
        queue = queue_save(queue=Queue(name="Inbound"), reps=[ana, bo, cy])
    for rep in reps:
        given(queue, rep, 2, days_ago=7)
    with time_machine.travel(NOON - timedelta(days=5), tick=False):
        queue_save(queue=queue, reps=[ana, bo])
    given(queue, ana, 2, days_ago=2)
    given(queue, bo, 2, days_ago=2)
    assert _shares() == {
        "Ana R": (4, 4.0, 100.0),
        "Bo R": (4, 4.0, 100.0),
        "Cy R": (2, 2.0, 100.0),
    }


def test_a_day_a_member_is_away_is_shared_by_the_others(reps):
    """Ana and Bo; Bo away 3 days ago, when Ana got 3 leads: hers alone. 2 days ago each got
    1. Ana's share 3 + 1 = 4, Bo's 1."""
    ana, bo, _ = reps
    with time_machine.travel(NOON - timedelta(days=11), tick=False):
        queue = queue_save(queue=Queue(name="Inbound"), reps=[ana, bo])
    away = timezone.localdate() - timedelta(days=3)
    Absence.objects.create(rep=bo, first_day=away, last_day=away)
    given(queue, ana, 3, days_ago=3)
    given(queue, ana, 1, days_ago=2)
    given(queue, bo, 1, days_ago=2)
    assert _shares() == {"Ana R": (4, 4.0, 100.0), "Bo R": (1, 1.0, 100.0)}


def test_a_weight_changed_mid_period_counts_from_that_day(reps):
    """Weighted: Ana 1, Bo 1 for days 10-6 ago (4 leads: 2 each); Bo's weight 3 from 5 days
    ago (4 leads: Ana 1, Bo 3). Ana's share 3, Bo's 5."""
    ana, bo, _ = reps
    with time_machine.travel(NOON - timedelta(days=11), tick=False):
        queue = queue_save(
            queue=Queue(name="Inbound", strategy=Queue.Strategy.WEIGHTED), reps=[ana, bo]
        )
    given(queue, ana, 2, days_ago=8)
    given(queue, bo, 2, days_ago=8)
    with time_machine.travel(NOON - timedelta(days=5), tick=False):
        queue_save(queue=queue, reps=[ana, bo], weights={bo.pk: 3})
    given(queue, ana, 1, days_ago=2)
    given(queue, bo, 3, days_ago=2)
    assert _shares() == {"Ana R": (3, 3.0, 100.0), "Bo R": (5, 5.0, 100.0)}
