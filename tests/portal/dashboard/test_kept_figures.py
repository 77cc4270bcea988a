"""The dashboard's figures are computed once per set of filters and kept for everyone for
DASHBOARD_FIGURES_SECONDS: the page says when, its Refresh recomputes them, and its CSV
exports and printable view read the same copy."""

import csv
import io
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from leads.models import Stage
from portal.accounts.roles import Role
from portal.dashboard import tables
from portal.dashboard.selectors import Filters
from portal.integrations.api.services import token_create
from tests.factories import UserFactory
from tests.portal.dashboard.helpers import WAY, lead_through

pytestmark = pytest.mark.django_db

PERIOD = {"period": "90"}


@pytest.fixture
def computed(monkeypatch):
    """How many times every panel was computed."""
    calls = []
    real = tables.all_tables

    def counting(filters, numbers=None):
        calls.append(filters)
        return real(filters, numbers)

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


@pytest.fixture(params=["local memory", pytest.param("redis", marks=pytest.mark.redis)])
def shared_cache(request, settings):
    """The cache of one process (threads), or Redis, the web processes' shared cache (each
    thread its own client, as each process has)."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.CELERY_BROKER_URL,
            }
        }
    cache.clear()
    yield
    cache.clear()


def test_requests_that_find_no_figures_at_once_compute_them_once(monkeypatch, shared_cache):
    """The first takes the turn and computes; the second waits for its copy."""
    started, finish = threading.Event(), threading.Event()
    calls, got = [], []

    def slow(filters, numbers=None):
        calls.append(filters)
        started.set()
        finish.wait(10)
        return {}

    monkeypatch.setattr(tables, "panel_numbers", lambda filters: {})
    monkeypatch.setattr(tables, "all_tables", slow)
    requests = [threading.Thread(target=lambda: got.append(tables.figures_kept(Filters())))]
    requests[0].start()
    assert started.wait(10)
    requests.append(threading.Thread(target=lambda: got.append(tables.figures_kept(Filters()))))
    requests[1].start()
    time.sleep(0.3)  # the second found no copy and the turn taken: it waits
    assert got == []
    finish.set()
    for request in requests:
        request.join(10)
    assert len(calls) == 1
    assert len(got) == 2 and got[0].at == got[1].at


def test_a_turn_whose_holder_died_lapses_and_the_next_request_computes(monkeypatch, computed):
    monkeypatch.setattr(tables, "COMPUTING_SECONDS", 0.5)
    held = tables.computing_key(tables._figures_key(Filters()))
    assert cache.add(held, "a process that died computing", 0.5)
    asked = time.monotonic()
    figures = tables.figures_kept(Filters())
    assert time.monotonic() - asked >= 0.4
    assert len(computed) == 1
    assert cache.get(held) is None  # its own turn given back
    assert tables.figures_kept(Filters()).at == figures.at


def _api(params=PERIOD) -> dict:
    manager = UserFactory(role=Role.MARKETING_MANAGER)
    token = {"Authorization": f"Bearer {token_create(user=manager, name='t')[1]}"}
    response = Client().get(reverse("api:dashboard"), params, headers=token)
    assert response.status_code == 200
    return response.json()


def test_the_api_answers_the_figures_the_page_shows_with_their_time(manager, computed):
    lead_through(*WAY)
    page = manager.get(reverse("dashboard"), PERIOD)
    lead_through(Stage.QUALIFIED)  # after the page's figures: in neither
    answer = _api()
    assert answer["funnel"]["captured"] == _captured(page) == 1
    assert parse_datetime(answer["as_of"]) == page.context["figures_at"]
    assert len(computed) == 1

    manager.post(f"{reverse('dashboard_refresh')}?period=90")  # for both
    again = _api()
    assert again["funnel"]["captured"] == 2
    assert parse_datetime(again["as_of"]) > page.context["figures_at"]


def test_the_api_asked_first_keeps_the_figures_the_page_then_shows(manager, computed):
    lead_through(*WAY)
    answer = _api()
    lead_through(Stage.QUALIFIED)
    page = manager.get(reverse("dashboard"), PERIOD)
    assert _captured(page) == answer["funnel"]["captured"] == 1
    assert page.context["figures_at"] == parse_datetime(answer["as_of"])
    assert len(computed) == 1
