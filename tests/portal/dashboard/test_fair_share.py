"""The team panel's assignments against fair share, against a ledger counted by hand."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.routing.models import Assignment, Queue, QueueMember
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


def test_fair_share_is_three_queries_however_many_assignments(ledger, django_assert_num_queries):
    facts_fresh()  # what the set-up marked, folded
    # The check that nothing is left to fold, the ledger, the members, the names.
    with django_assert_num_queries(4):
        fair_shares(filters=Filters())
