"""Submissions as CSV, of the forms the form list filters to (or of one form): every field,
provenance and UTM tags, ISO dates, streamed and defused against spreadsheet formulas."""

import csv
import datetime
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from leads.capture.services import form_unpublish
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORT = reverse("capture:submissions_export")


def rows(response) -> list[dict]:
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Disposition"].startswith('attachment; filename="submissions-')
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def send(client, form, **data):
    url = reverse("capture:form", kwargs={"slug": form.slug})
    assert client.post(url, {"utm_source": "ads", **data}).status_code == 302


@pytest.fixture
def marketer(client):
    client.force_login(UserFactory(role=Role.MARKETER))


def test_every_submission_with_its_fields_provenance_and_dates(client, marketer):
    form = FormFactory(name="Webinar")
    send(client, form, email="ana@acme.example", company="=cmd|' /C calc'!A0", country="Brazil")
    [row] = rows(client.get(EXPORT))
    assert (row["form"], row["form_version"], row["lead_email"]) == (
        "Webinar",
        "1",
        "ana@acme.example",
    )
    assert (row["email"], row["country"], row["utm_source"]) == (
        "ana@acme.example",
        "Brazil",
        "ads",
    )
    assert row["company"] == "'=cmd|' /C calc'!A0"
    assert datetime.datetime.fromisoformat(row["received_at"]).tzinfo is not None


def test_the_form_lists_filters_choose_the_forms(client, marketer):
    webinar, ebook = FormFactory(name="Webinar"), FormFactory(name="Ebook")
    send(client, webinar, email="ana@acme.example")
    send(client, ebook, email="bo@acme.example")
    form_unpublish(form=ebook)
    assert [r["form"] for r in rows(client.get(EXPORT, {"q": "webi"}))] == ["Webinar"]
    assert [r["form"] for r in rows(client.get(EXPORT, {"status": "draft"}))] == ["Ebook"]
    assert [r["form"] for r in rows(client.get(EXPORT, {"form": ebook.pk}))] == ["Ebook"]
    assert rows(client.get(EXPORT, {"form": "x"})) == []
    html = client.get(reverse("capture:form_list"), {"q": "webi", "status": "published"})
    assert f'href="{EXPORT}?status=published&amp;q=webi"' in html.content.decode()


def test_a_rep_may_not_export(client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.get(EXPORT).status_code == 403
