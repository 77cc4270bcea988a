from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leads.lifecycle import lead_move
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from portal.dashboard.selectors import stage_counts
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_stage_counts_list_every_stage_with_its_number():
    LeadFactory.create_batch(3, stage=Stage.ROUTED)
    LeadFactory(stage=Stage.WON)
    counts = {row["stage"]: row["count"] for row in stage_counts()}
    assert list(counts) == list(Stage.values)
    assert counts[Stage.ROUTED] == 3
    assert counts[Stage.WON] == 1
    assert counts[Stage.CAPTURED] == 0


def test_stage_counts_cover_only_the_period():
    LeadFactory(stage=Stage.ROUTED)
    old = LeadFactory(stage=Stage.ROUTED)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    recent = {
        r["stage"]: r["count"] for r in stage_counts(since=timezone.now() - timedelta(days=30))
    }
    assert recent[Stage.ROUTED] == 1


def test_dashboard_page_shows_the_database_counts(client):
    LeadFactory.create_batch(2, stage=Stage.ACCEPTED)
    LeadFactory(stage=Stage.DISQUALIFIED)
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    response = client.get(reverse("dashboard"))
    html = response.content.decode()
    assert response.context["total"] == Lead.objects.count() == 3
    assert '<tr data-stage="accepted">' in html
    rows = {row["stage"]: row["count"] for row in response.context["counts"]}
    assert rows[Stage.ACCEPTED] == 2
    assert rows[Stage.DISQUALIFIED] == 1


def test_unknown_period_falls_back_to_ninety_days(client):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    assert client.get(reverse("dashboard"), {"period": "forever"}).context["period"] == "90"


def test_ever_reached_counts_each_lead_once_per_stage_it_passed_through():
    rep = UserFactory(role=Role.SALES_REP)
    won = LeadFactory(stage=Stage.ROUTED, owner=rep)
    rejected = LeadFactory(stage=Stage.ROUTED, owner=rep)
    with transaction.atomic():
        for stage in (Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY, Stage.WON):
            lead_move(lead=won, to=stage, by=rep, reason="Worked.")
        lead_move(lead=rejected, to=Stage.REJECTED, by=rep, reason="No budget.")
        lead_move(lead=rejected, to=Stage.ROUTED, reason="Routed again.")
        lead_move(lead=rejected, to=Stage.REJECTED, by=rep, reason="Still no budget.")
    rows = {row["stage"]: row for row in stage_counts()}
    # An independent recount from the events, one lead at a time.
    for stage in Stage.values:
        expected = sum(1 for lead in (won, rejected) if lead.events.filter(to_stage=stage).exists())
        assert rows[stage]["reached"] == expected, stage
    assert rows[Stage.REJECTED]["reached"] == 1
    assert rows[Stage.ACCEPTED]["reached"] == 1
    assert (rows[Stage.WON]["count"], rows[Stage.WON]["reached"]) == (1, 1)
    assert (rows[Stage.OPPORTUNITY]["count"], rows[Stage.OPPORTUNITY]["reached"]) == (0, 1)


def test_ever_reached_covers_only_leads_captured_in_the_period():
    rep = UserFactory(role=Role.SALES_REP)
    old = LeadFactory(stage=Stage.ROUTED, owner=rep)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    with transaction.atomic():
        lead_move(lead=old, to=Stage.ACCEPTED, by=rep, reason="Yes.")
    recent = {r["stage"]: r for r in stage_counts(since=timezone.now() - timedelta(days=30))}
    assert recent[Stage.ACCEPTED]["reached"] == 0
    assert {r["stage"]: r for r in stage_counts()}[Stage.ACCEPTED]["reached"] == 1
