import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, Stage
from portal.accounts.roles import Role
from portal.dashboard.tables import PANELS
from tests.factories import LeadFactory, UserFactory
from tests.portal.dashboard.helpers import (
    WAY,
    event,
    lead_imported_as,
    lead_through,
    submitted,
)

pytestmark = pytest.mark.django_db


def _some_leads(n: int = 1):
    for _ in range(n):
        submitted(lead_through(*WAY), utm_source="ads")
        lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.REJECTED, reason_code="duplicate")
        lead_imported_as(Stage.WON, days_ago=30)


def _csv(client, panel: str, params: dict) -> list[list[str]]:
    response = client.get(reverse("dashboard_csv", kwargs={"panel": panel}), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _as_csv(cell) -> str:
    return "" if cell is None else str(cell)


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER, Role.SALES_MANAGER])
def test_every_role_sees_the_same_team_wide_numbers(client, role):
    _some_leads()
    client.force_login(UserFactory(role=role))
    response = client.get(reverse("dashboard"), {"period": "all"})
    assert response.status_code == 200
    funnel = {row[0]: row[1] for row in response.context["tables"]["funnel"].rows}
    assert funnel == {
        "Captured": 3,
        "Qualified (MQL)": 3,
        "Routed": 3,
        "Accepted": 2,
        "Contacted": 2,
        "Opportunity (SQL)": 2,
        "Won": 2,
    }


def test_every_panel_csv_gives_the_numbers_of_the_page(client):
    _some_leads()
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    params = {"period": "90"}
    tables = client.get(reverse("dashboard"), params).context["tables"]
    assert {key.replace("_", "-") for key in tables} == set(PANELS)
    for key, table in tables.items():
        rows = _csv(client, table.key, params)
        assert rows[0] == table.columns, key
        assert rows[1:] == [[_as_csv(cell) for cell in row] for row in table.rows], key


def test_the_page_shows_each_table_cell(client):
    _some_leads()
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    response = client.get(reverse("dashboard"), {"period": "all"})
    html = response.content.decode()
    assert 'data-panel="funnel"' in html
    assert "<svg" in html and "style=" not in html.split('id="main"')[1]
    assert '<th scope="row" class="fw-normal">Won</th><td class="text-end">2</td>' in html


def test_a_time_reads_in_hours_on_the_page_and_in_minutes_in_the_csv(client):
    created = timezone.now() - timedelta(days=7)
    lead = LeadFactory(created_at=created)
    event(lead, at=created + timedelta(minutes=5), to_stage=Stage.ROUTED)
    acted = created + timedelta(minutes=227, seconds=24)
    Lead.objects.filter(pk=lead.pk).update(first_action_at=acted)
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    html = client.get(reverse("dashboard"), {"period": "30"}).content.decode()
    speed = html.split('data-panel="speed"')[1].split("</table>")[0]
    assert '<th scope="col" class="text-end">Median</th>' in speed
    assert "(minutes)" not in speed
    first_action = speed.split("Submission → first rep action</th>")[1].split("</tr>")[0]
    assert (
        '<time datetime="PT13644S" title="227.4 minutes">3\u00a0h 47\u00a0min</time>'
        in first_action
    )
    routing = speed.split("Our routing: submission → routed</th>")[1].split("</tr>")[0]
    assert '<time datetime="PT300S" title="5.0 minutes">5\u00a0min</time>' in routing

    rows = _csv(client, "speed", {"period": "30"})
    assert rows[0] == ["Measure", "Leads", "Median (minutes)", "90th percentile (minutes)"]
    assert rows[1] == ["Submission → first rep action", "1", "227.4", "227.4"]


def test_an_unknown_panel_is_not_found(client):
    client.force_login(UserFactory(role=Role.MARKETER))
    assert client.get(reverse("dashboard_csv", kwargs={"panel": "nothing"})).status_code == 404


def test_a_csv_cell_that_would_run_as_a_formula_is_defused(client):
    submitted(lead_through(Stage.QUALIFIED), utm_source="=HYPERLINK(1)")
    client.force_login(UserFactory(role=Role.MARKETER))
    rows = _csv(client, "quality-source", {"period": "all"})
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_the_page_reads_as_many_queries_for_many_leads_as_for_few(client, settings):
    settings.DASHBOARD_FIGURES_SECONDS = 0  # computed on each request: what computing costs
    client.force_login(UserFactory(role=Role.MARKETER))
    _some_leads(1)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard"), {"period": "all"})
    _some_leads(4)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("dashboard"), {"period": "all"})
    assert len(many) == len(few)


def test_the_printable_view_has_every_panel_the_filters_in_words_and_no_navigation(client):
    _some_leads()
    client.force_login(UserFactory(role=Role.SALES_REP))
    params = {"period": "30", "source": "ads"}
    page = client.get(reverse("dashboard"), params)
    printed = client.get(reverse("dashboard_print"), params)
    assert printed.status_code == 200
    html = printed.content.decode()
    assert 'aria-label="Main"' not in html and 'id="dashboard-filters"' not in html
    assert "<strong>Period:</strong> Last 30 days · <strong>Source:</strong> ads" in html
    for key, table in page.context["tables"].items():
        assert f'data-panel="{table.key}"' in html, key
        assert printed.context["tables"][key].rows == table.rows, key
    assert f'href="{reverse("dashboard_print")}?period=30&amp;source=ads"' in page.content.decode()


def test_the_stylesheet_prints_panels_whole_and_without_the_navigation():
    from django.contrib.staticfiles import finders

    with open(finders.find("css/leadbridge.css"), encoding="utf-8") as stylesheet:
        css = stylesheet.read()
    printing = css.split("@media print", 1)[1]
    assert "break-inside: avoid" in printing and "header" in printing


def test_the_dashboard_and_the_review_include_the_same_panel_templates(client):
    from portal.dashboard.services import review_freeze

    _some_leads()
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    live = {t.name for t in client.get(reverse("dashboard")).templates}
    frozen = {t.name for t in client.get(review_freeze().get_absolute_url()).templates}
    panels = {name for name in live if name.startswith("dashboard/_panels_")}
    assert len(panels) == 5
    assert panels <= frozen
