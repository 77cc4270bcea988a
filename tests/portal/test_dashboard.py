from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

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
