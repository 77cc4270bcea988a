"""Agreements through the API: every setting the agreement page edits, days off included."""

from datetime import date

from django.test import Client
from django.urls import reverse

from scoring.models import Agreement
from scoring.services import agreement_terms_set
from tests.portal.integrations.conftest import MARKETER, SALES_MGR


def _draft_with_days_off(world) -> Agreement:
    draft = Agreement.objects.create(version=1, time_zone="Europe/Berlin")
    return agreement_terms_set(
        agreement=draft,
        by=world.users[SALES_MGR],
        summary="Days off",
        threshold=10,
        accept_within_minutes=240,
        contact_within_hours=24,
        holidays=[date(2026, 12, 25), date(2026, 12, 24), date(2027, 1, 1)],
    )


def test_an_agreement_shows_the_days_off_its_page_has(world):
    draft = _draft_with_days_off(world)

    url = reverse("api:agreement-detail", kwargs={"version": draft.version})
    answer = Client().get(url, headers=world.headers(MARKETER)).json()

    assert answer["holidays"] == ["2026-12-24", "2026-12-25", "2027-01-01"]
    assert answer["time_zone"] == "Europe/Berlin"
    listed = Client().get(reverse("api:agreement-list"), headers=world.headers(MARKETER)).json()
    assert listed["results"][0]["holidays"] == answer["holidays"]


def test_an_agreement_without_days_off_shows_an_empty_list(world):
    Agreement.objects.create(version=1)
    url = reverse("api:agreement-detail", kwargs={"version": 1})
    assert Client().get(url, headers=world.headers(MARKETER)).json()["holidays"] == []


def test_a_draft_made_through_the_api_keeps_the_days_off_of_its_version(world):
    source = _draft_with_days_off(world)

    url = reverse("api:agreement-draft", kwargs={"version": source.version})
    response = Client().post(url, headers=world.headers(SALES_MGR))

    assert response.status_code == 201, response.content[:300]
    assert response.json()["holidays"] == ["2026-12-24", "2026-12-25", "2027-01-01"]
    assert Agreement.objects.get(version=response.json()["version"]).holidays == source.holidays
