from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from leads.inbox.selectors import leads_visible_to
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from portal.dashboard.facts import facts_fresh
from portal.dashboard.selectors import (
    Filters,
    leads_listed_for,
    overdue_by_queue_and_rep,
    score_distribution,
    team,
)
from scoring.models import Qualification
from tests.factories import AgreementFactory, LeadFactory, QueueFactory, UserFactory, judged
from tests.portal.dashboard.helpers import WAY, lead_through, submitted

pytestmark = pytest.mark.django_db


def _due(lead: Lead, step: str, minutes: int) -> Lead:
    """Set the service-level clock as the SLA engine would: due `minutes` from now."""
    Lead.objects.filter(pk=lead.pk).update(
        due_step=step, due_at=timezone.now() + timedelta(minutes=minutes)
    )
    return lead


@pytest.fixture
def reps():
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Silva")
    bo = UserFactory(role=Role.SALES_REP, first_name="Bo", last_name="Berg")
    return ana, bo


def test_overdue_counts_each_queue_and_rep_by_step(reps):
    ana, bo = reps
    north = QueueFactory(name="North")
    _due(LeadFactory(owner=ana, queue=north, stage=Stage.ROUTED), "accept", -5)
    _due(LeadFactory(owner=ana, queue=north, stage=Stage.ROUTED), "accept", -90)
    _due(LeadFactory(owner=ana, queue=north, stage=Stage.ACCEPTED), "contact", -1)
    _due(LeadFactory(owner=ana, queue=north, stage=Stage.ROUTED), "accept", +30)  # not yet
    _due(LeadFactory(owner=bo, queue=north, stage=Stage.ACCEPTED), "contact", -10)
    old = _due(LeadFactory(owner=bo, queue=north, stage=Stage.ROUTED), "accept", -10)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    rows = overdue_by_queue_and_rep(filters=Filters(since=timezone.now()), now=timezone.now())
    assert rows == [
        {"queue": "North", "rep": "Ana Silva", "accept": 2, "contact": 1},
        {"queue": "North", "rep": "Bo Berg", "accept": 1, "contact": 1},
    ]


def test_the_overdue_list_shows_a_rep_only_their_own_leads(client, reps):
    ana, bo = reps
    mine = _due(LeadFactory(owner=ana, stage=Stage.ROUTED, first_name="Mina"), "accept", -5)
    theirs = _due(LeadFactory(owner=bo, stage=Stage.ROUTED, first_name="Theo"), "accept", -5)
    client.force_login(ana)
    page = client.get(reverse("dashboard"))
    assert list(page.context["overdue"]) == [mine]
    assert theirs.get_absolute_url() not in page.content.decode()
    # ...while the team-wide counts are the same for everyone.
    counts = page.context["tables"]["overdue"].rows
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("dashboard"))
    assert set(page.context["overdue"]) == {mine, theirs}
    assert page.context["tables"]["overdue"].rows == counts


@pytest.mark.parametrize("role", list(Role))
def test_the_dashboard_lists_follow_the_inboxs_rule(role):
    user = UserFactory(role=role)
    LeadFactory(owner=user, stage=Stage.ROUTED)
    LeadFactory(owner=UserFactory(role=Role.SALES_REP), stage=Stage.ROUTED)
    assert set(leads_listed_for(user=user)) == set(leads_visible_to(user=user))


def test_team_counts_each_reps_leads_and_time_to_act(reps):
    ana, bo = reps
    won = lead_through(*WAY, owner=ana)
    lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.ACCEPTED, owner=ana)
    lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.REJECTED, owner=bo)
    # Ana took 10 and 30 minutes from routed to first action.
    for lead, minutes in zip(Lead.objects.filter(owner=ana).order_by("pk"), (10, 30), strict=True):
        routed_at = lead.events.get(to_stage=Stage.ROUTED).at
        Lead.objects.filter(pk=lead.pk).update(
            first_action_at=routed_at + timedelta(minutes=minutes)
        )
    rows = {row["rep"]: row for row in team(filters=Filters())}
    assert rows["Ana Silva"] | {"rep_median": None} == {
        "rep": "Ana Silva",
        "open": 1,
        "routed": 2,
        "accepted": 2,
        "won": 1,
        "win_rate": 50.0,
        "rep_median": None,
    }
    assert rows["Ana Silva"]["rep_median"] == pytest.approx(20 * 60, abs=0.5)
    assert (rows["Bo Berg"]["open"], rows["Bo Berg"]["accepted"]) == (0, 0)
    assert rows["Bo Berg"]["win_rate"] is None
    assert won.pk


def test_scores_are_counted_per_version_score_and_verdict():
    v1, v2 = AgreementFactory(), AgreementFactory()
    for agreement, score, qualified in [(v1, 10, False), (v1, 30, True), (v2, 30, True)] * 2:
        lead = LeadFactory()
        submission = submitted(lead)
        Qualification.objects.create(
            lead=lead,
            submission=submission,
            agreement=agreement,
            qualified=qualified,
            score=score,
            summary="T.",
        )
    rows = score_distribution(filters=Filters())
    assert rows == [
        {"version": v2.version, "score": 30, "qualified": 2, "not_qualified": 0},
        {"version": v1.version, "score": 10, "qualified": 0, "not_qualified": 2},
        {"version": v1.version, "score": 30, "qualified": 2, "not_qualified": 0},
    ]


def test_the_team_and_the_scores_take_two_queries_however_many_reps(
    reps, django_assert_num_queries
):
    agreements = [AgreementFactory(), AgreementFactory()]
    for rep, agreement in zip(reps, agreements, strict=True):
        lead = lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.ACCEPTED, owner=rep)
        judged(lead, agreement, {})
    facts_fresh()  # what the set-up marked, folded
    # The check that nothing is left to fold, the figures per owner, their names (SQLite
    # reads the rep's timings again: one more).
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 4):
        team(filters=Filters())
    # The check, the judgements listed in the facts, the versions of their agreements.
    with django_assert_num_queries(3):
        score_distribution(filters=Filters())
