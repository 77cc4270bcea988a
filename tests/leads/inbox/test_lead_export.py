"""The leads list as CSV: the list's filters, every column marketing asked for, streamed, and
safe to open in a spreadsheet. Marketers and managers export; a rep does not."""

import csv
import datetime
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from leads.models import Stage
from portal.accounts.roles import Role
from tests.factories import FormFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def marketer(client):
    user = UserFactory(role=Role.MARKETER)
    client.force_login(user)
    return user


def send(client, form, **data):
    url = reverse("capture:form", kwargs={"slug": form.slug})
    data = {"utm_source": "ads", "utm_campaign": "spring", **data}
    assert client.post(url, data).status_code == 302


def test_export_has_attributes_source_utm_stage_and_iso_dates(client, marketer):
    form = FormFactory(name="Webinar")
    send(client, form, email="ana@acme.example", company="Acme", company_size="80")
    [row] = rows(client.get(reverse("inbox:export")))
    assert row["email"] == "ana@acme.example"
    assert (row["company"], row["company_size"], row["stage"]) == ("Acme", "80", "captured")
    assert (row["source_form"], row["utm_source"], row["utm_campaign"]) == (
        "Webinar",
        "ads",
        "spring",
    )
    created = datetime.datetime.fromisoformat(row["created_at"])
    assert created.tzinfo is not None
    assert row["first_action_at"] == ""


def test_export_keeps_the_lists_filters(client, marketer):
    LeadFactory(stage=Stage.ROUTED, company="Globex")
    LeadFactory(stage=Stage.ROUTED, company="Initech")
    LeadFactory(stage=Stage.CAPTURED, company="Globex Two")
    found = rows(client.get(reverse("inbox:export"), {"stage": "routed", "q": "glob"}))
    assert [row["company"] for row in found] == ["Globex"]


def test_the_list_links_to_the_export_with_its_filters(client, marketer):
    html = client.get(reverse("inbox:list"), {"stage": "routed", "q": "a&b"}).content.decode()
    assert f'href="{reverse("inbox:export")}?stage=routed&amp;q=a%26b"' in html


@pytest.mark.parametrize("formula", ["=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx"])
def test_cells_a_spreadsheet_would_run_are_defused(client, marketer, formula):
    LeadFactory(company=formula, first_name=formula)
    [row] = rows(client.get(reverse("inbox:export")))
    assert row["company"] == "'" + formula
    assert row["first_name"] == "'" + formula


def test_a_rep_may_not_export_and_sees_no_link(client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.get(reverse("inbox:export")).status_code == 403
    assert 'id="export-leads"' not in client.get(reverse("inbox:list")).content.decode()


@pytest.mark.parametrize("role", [Role.MARKETING_MANAGER, Role.SALES_MANAGER])
def test_managers_export_every_lead(client, role):
    LeadFactory.create_batch(3)
    client.force_login(UserFactory(role=role))
    assert len(rows(client.get(reverse("inbox:export")))) == 3


def test_export_reads_the_leads_in_a_fixed_number_of_queries(client, marketer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    form = FormFactory()
    for n in range(12):
        send(client, form, email=f"lead{n}@acme.example")
    with CaptureQueriesContext(connection) as queries:
        assert len(rows(client.get(reverse("inbox:export")))) == 12
    few = len(queries)
    send(client, form, email="one-more@acme.example")
    with CaptureQueriesContext(connection) as queries:
        assert len(rows(client.get(reverse("inbox:export")))) == 13
    assert len(queries) == few
