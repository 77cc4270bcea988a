"""Page = CSV = review: for every panel, the live page's numbers, the live CSV export and the
frozen review (its page and its CSV) give the same cells, on histories counted by hand: a lead
that moved backwards, imported outcomes, a period's edges in a time zone far from UTC, and an
empty period."""

import csv
import io
from datetime import datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from leads.models import Stage
from portal.accounts.roles import Role
from portal.dashboard.services import review_freeze
from portal.dashboard.tables import PANELS, REVIEW_PANELS
from tests.factories import AgreementFactory, UserFactory
from tests.portal.dashboard.helpers import WAY, lead_imported_as, lead_through, submitted

pytestmark = pytest.mark.django_db

ZONE = "America/Sao_Paulo"  # UTC-3: a lead at 23:30 local is the next day in UTC


def _cells(rows) -> list[list[str]]:
    return [["" if cell is None else str(cell) for cell in row] for row in rows]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def _local(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _histories(until):
    """In the two weeks ending `until` (local days):
    - a lead rejected (wrong territory), routed again and accepted: it moved backwards;
    - a lead all the way to won, with UTM source "ads";
    - three outcomes imported from history: won, lost (no budget), rejected (duplicate);
    - a lead at 23:30 local on `until` (02:30 UTC the day after): in the period;
    and out of it: a lead at 00:30 local the day after `until`, one 15 days before `until`.
    Hand count of the period: captured 6; qualified 5 (all but the 23:30 one); routed 5;
    accepted 4 (backwards, won, imported won and lost); contacted, opportunity 3; won 2.
    Side exits: rejected 2 (wrong territory 1, duplicate 1), lost 1 (price 1)."""
    day = until - timedelta(days=3)
    lead_through(
        Stage.QUALIFIED,
        Stage.ROUTED,
        Stage.REJECTED,
        Stage.ROUTED,
        Stage.ACCEPTED,
        reason_code="wrong_territory",
        created_at=_local(day, 10),
    )
    submitted(lead_through(*WAY, created_at=_local(day, 11)), utm_source="ads")
    today = timezone.localdate()
    for outcome, code in (
        (Stage.WON, ""),
        (Stage.LOST, "price"),
        (Stage.REJECTED, "duplicate"),
    ):
        lead_imported_as(outcome, reason_code=code, days_ago=(today - day).days)
    lead_through(created_at=_local(until, 23, 30))
    lead_through(Stage.QUALIFIED, created_at=_local(until + timedelta(days=1), 0, 30))
    lead_through(Stage.QUALIFIED, created_at=_local(until - timedelta(days=15), 12))


def _same_everywhere(client, review) -> dict[str, list[list[str]]]:
    """Every panel's cells, having checked the four readings of them agree."""
    period = {
        "period": "custom",
        "start": review.since.isoformat(),
        "end": review.until.isoformat(),
    }
    # The page's figures computed now (none kept from before the histories), as the review's
    # are; the live CSV reads the copy the page kept.
    cache.clear()
    asked = timezone.now()
    shown = client.get(reverse("dashboard"), period).context
    assert shown["figures_at"] >= asked
    page = shown["tables"]
    frozen_page = client.get(review.get_absolute_url()).context["tables"]
    found = {}
    for panel in review.panels:
        key = panel["key"]
        live_csv = _csv(client.get(reverse("dashboard_csv", kwargs={"panel": key}), period))
        frozen_csv = _csv(client.get(reverse("review_csv", kwargs={"pk": review.pk, "panel": key})))
        assert frozen_csv == live_csv, key
        assert frozen_csv[0] == panel["columns"], key
        cells = frozen_csv[1:]
        assert _cells(frozen_page[key.replace("-", "_")].rows) == cells, key
        if key in PANELS:
            assert _cells(page[key.replace("-", "_")].rows) == cells, key
        found[key] = cells
    assert set(found) == set(PANELS) | set(REVIEW_PANELS)
    return found


@override_settings(TIME_ZONE=ZONE)
def test_page_csv_and_review_agree_on_every_panel_with_the_hand_count(client):
    AgreementFactory()
    until = timezone.localdate() - timedelta(days=1)
    _histories(until)
    review = review_freeze(until=until)
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    cells = _same_everywhere(client, review)
    assert cells["funnel"] == _cells(
        [
            ["Captured", 6, None],
            ["Qualified (MQL)", 5, 83.3],
            ["Routed", 5, 100.0],
            ["Accepted", 4, 80.0],
            ["Contacted", 3, 75.0],
            ["Opportunity (SQL)", 3, 100.0],
            ["Won", 2, 66.7],
        ]
    )
    exits = {(row[0], row[1]): row[2] for row in cells["exits"]}
    assert exits[("Rejected", "All")] == "2"
    assert exits[("Rejected", "Wrong territory")] == exits[("Rejected", "Duplicate")] == "1"
    assert exits[("Lost", "Price")] == "1"
    (ads,) = [row for row in cells["quality-source"] if row[0] == "ads"]
    assert ads[1:3] == ["1", "1"]


@override_settings(TIME_ZONE=ZONE)
def test_an_empty_period_reads_empty_everywhere(client):
    until = timezone.localdate() - timedelta(days=100)
    lead_through(Stage.QUALIFIED)  # today: outside
    review = review_freeze(until=until)
    client.force_login(UserFactory(role=Role.SALES_REP))
    cells = _same_everywhere(client, review)
    assert [row[1] for row in cells["funnel"]] == ["0"] * 7
    for key in ("quality-form", "team", "fair-share", "scores", "flags", "speed-weekly"):
        assert cells[key] == [], key
