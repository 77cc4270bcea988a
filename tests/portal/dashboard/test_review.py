import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from leads.models import Stage
from portal.accounts.roles import Role
from portal.dashboard.models import HandoffReview
from portal.dashboard.services import NOTES_MAX_LENGTH, review_freeze
from tests.factories import UserFactory
from tests.portal.dashboard.helpers import WAY, lead_imported_as, lead_through, submitted

pytestmark = pytest.mark.django_db


def _leads():
    submitted(lead_through(*WAY), utm_source="ads")
    lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.REJECTED, reason_code="duplicate")
    lead_imported_as(Stage.WON, days_ago=3)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_review_freezes_the_last_two_weeks_once():
    _leads()
    review = review_freeze()
    assert (review.until, review.since) == (
        timezone.localdate() - timedelta(days=1),
        timezone.localdate() - timedelta(days=14),
    )
    assert review.panel("funnel")["rows"][0] == ["Captured", 1, None]  # the imported lead
    assert review_freeze() == review
    assert HandoffReview.objects.count() == 1


def test_page_csv_and_review_give_the_same_numbers(client):
    _leads()
    today = timezone.localdate()
    review = review_freeze(until=today)
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    period = {"period": "custom", "start": review.since.isoformat(), "end": today.isoformat()}
    for panel in review.panels:
        live = _csv(client.get(reverse("dashboard_csv", kwargs={"panel": panel["key"]}), period))
        frozen = _csv(
            client.get(reverse("review_csv", kwargs={"pk": review.pk, "panel": panel["key"]}))
        )
        assert frozen == live, panel["key"]
    page = client.get(review.get_absolute_url())
    assert page.context["tables"]["funnel"]["rows"] == review.panel("funnel")["rows"]


def test_a_review_does_not_change_when_leads_do():
    _leads()
    review = review_freeze(until=timezone.localdate())
    before = review.panel("funnel")["rows"]
    lead_through(Stage.QUALIFIED)
    review.refresh_from_db()
    assert review.panel("funnel")["rows"] == before
    assert review_freeze(until=timezone.localdate()).panel("funnel")["rows"] == before


def test_each_side_writes_only_its_own_notes(client):
    review = review_freeze()
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    saved = client.post(review.get_absolute_url(), {"side": "marketing", "text": "More webinars."})
    assert saved.status_code == 302
    assert client.post(review.get_absolute_url(), {"side": "sales", "text": "x"}).status_code == 403
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.post(review.get_absolute_url(), {"side": "sales", "text": "x"}).status_code == 403
    review.refresh_from_db()
    assert (review.marketing_notes, review.sales_notes) == ("More webinars.", "")


def test_notes_too_long_are_refused_saying_why(client):
    review = review_freeze()
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    text = "x" * (NOTES_MAX_LENGTH + 1)
    response = client.post(review.get_absolute_url(), {"side": "sales", "text": text})
    assert response.status_code == 400
    assert f"Keep it to {NOTES_MAX_LENGTH} characters" in response.content.decode()
    review.refresh_from_db()
    assert review.sales_notes == ""


def test_the_command_freezes_the_period_it_is_given(capsys):
    call_command("freeze_handoff_review", "--until", "2026-01-14")
    review = HandoffReview.objects.get()
    assert (review.since.isoformat(), review.until.isoformat()) == ("2026-01-01", "2026-01-14")
    assert review.get_absolute_url() in capsys.readouterr().out


def test_the_list_links_every_review(client):
    first = review_freeze(until=timezone.localdate() - timedelta(days=15))
    second = review_freeze()
    client.force_login(UserFactory(role=Role.SALES_REP))
    html = client.get(reverse("review_list")).content.decode()
    assert first.get_absolute_url() in html and second.get_absolute_url() in html
