"""The dashboard's figures are computed once per set of filters and kept for everyone for
DASHBOARD_FIGURES_SECONDS: the page says when, its Refresh recomputes them, and its CSV
exports and printable view read the same copy."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leads.models import Stage
from portal.accounts.roles import Role
from portal.dashboard import tables
from tests.factories import UserFactory
from tests.portal.dashboard.helpers import WAY, lead_through

pytestmark = pytest.mark.django_db

PERIOD = {"period": "90"}


@pytest.fixture
def computed(monkeypatch):
    """How many times every panel was computed."""
    calls = []
    real = tables.all_tables

    def counting(filters):
        calls.append(filters)
        return real(filters)

    monkeypatch.setattr(tables, "all_tables", counting)
    return calls


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    return client


def _captured(response) -> int:
    return {row[0]: row[1] for row in response.context["tables"]["funnel"].rows}["Captured"]


def _csv_captured(client, params=PERIOD) -> str:
    response = client.get(reverse("dashboard_csv", kwargs={"panel": "funnel"}), params)
    rows = csv.reader(io.StringIO(response.content.decode()))
    return {row[0]: row[1] for row in rows}["Captured"]


def test_two_requests_within_the_time_compute_the_figures_once(manager, computed):
    lead_through(*WAY)
    first = manager.get(reverse("dashboard"), PERIOD)
    lead_through(Stage.QUALIFIED)
    second = UserFactory(role=Role.SALES_REP)
    manager.force_login(second)  # another viewer: the same kept copy
    again = manager.get(reverse("dashboard"), PERIOD)
    assert len(computed) == 1
    assert _captured(first) == _captured(again) == 1
    assert again.context["figures_at"] == first.context["figures_at"]


def test_other_filters_are_other_figures(manager, computed):
    manager.get(reverse("dashboard"), PERIOD)
    manager.get(reverse("dashboard"), {"period": "30"})
    assert len(computed) == 2


def test_after_the_time_the_figures_are_computed_again(manager, computed, settings):
    settings.DASHBOARD_FIGURES_SECONDS = 60
    lead_through(*WAY)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert _captured(manager.get(reverse("dashboard"), PERIOD)) == 1
    lead_through(Stage.QUALIFIED)
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        assert _captured(manager.get(reverse("dashboard"), PERIOD)) == 1
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert _captured(manager.get(reverse("dashboard"), PERIOD)) == 2
    assert len(computed) == 2


def test_refresh_computes_the_figures_again_for_everyone(manager, computed):
    lead_through(*WAY)
    manager.get(reverse("dashboard"), PERIOD)
    lead_through(Stage.QUALIFIED)
    response = manager.post(f"{reverse('dashboard_refresh')}?period=90")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('dashboard')}?period=90"
    assert len(computed) == 2
    shown = manager.get(reverse("dashboard"), PERIOD)
    assert _captured(shown) == 2 and len(computed) == 2
    assert _csv_captured(manager) == "2"


def test_the_page_says_when_its_figures_were_computed_and_offers_refresh(manager, settings):
    settings.TIME_ZONE = "America/Sao_Paulo"
    at = datetime(2026, 12, 6, 17, 5, tzinfo=UTC)  # 14:05 in São Paulo
    with time_machine.travel(at, tick=False):
        html = manager.get(reverse("dashboard"), PERIOD).content.decode()
    assert ">14:05</time> (America/Sao_Paulo)" in html
    assert f'action="{reverse("dashboard_refresh")}?period=90"' in html
    assert ">Refresh</button>" in html


def test_the_csv_and_the_printable_view_give_the_figures_the_page_shows(manager):
    lead_through(*WAY)
    page = manager.get(reverse("dashboard"), PERIOD)
    lead_through(Stage.QUALIFIED)  # after the page's figures: not in them, nor in the CSV
    assert _captured(page) == 1
    assert _csv_captured(manager) == "1"
    printed = manager.get(reverse("dashboard_print"), PERIOD)
    assert printed.context["tables"]["funnel"].rows == page.context["tables"]["funnel"].rows
    assert printed.context["figures_at"] == page.context["figures_at"]


def test_a_csv_asked_first_keeps_the_figures_the_page_then_shows(manager, computed):
    lead_through(*WAY)
    assert _csv_captured(manager) == "1"
    lead_through(Stage.QUALIFIED)
    assert _captured(manager.get(reverse("dashboard"), PERIOD)) == 1
    assert len(computed) == 1


def test_zero_seconds_computes_on_every_request(manager, computed, settings):
    settings.DASHBOARD_FIGURES_SECONDS = 0
    manager.get(reverse("dashboard"), PERIOD)
    manager.get(reverse("dashboard"), PERIOD)
    assert len(computed) == 2


def test_refresh_is_a_post_for_those_who_see_the_dashboard(client):
    assert client.post(reverse("dashboard_refresh")).status_code == 302  # to the login
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.get(reverse("dashboard_refresh")).status_code == 405
    assert client.post(reverse("dashboard_refresh")).status_code == 302
