"""Field aliases: a site posting HubSpot's or Salesforce's standard names (firstname, jobtitle,
numemployees, title, employees, ...) fills the form's fields and the lead's name and company,
through the form's alias map (preset, edited by the marketer on the form's settings page)."""

import json
from pathlib import Path

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from leads.capture.aliases import PRESET_ALIASES, aliases_as_text, aliases_from_text
from leads.capture.models import Form, FormField
from leads.capture.services import form_publish
from leads.models import Lead, Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def form():
    """A form that asks for no name and no company: only e-mail, job title and size."""
    form = FormFactory(with_fields=False, publish=False)
    for position, (key, label, kind) in enumerate(
        [
            ("email", "Work e-mail", FormField.Kind.EMAIL),
            ("job_title", "Job title", FormField.Kind.TEXT),
            ("company_size", "Employees", FormField.Kind.NUMBER),
        ]
    ):
        FormField.objects.create(form=form, key=key, label=label, kind=kind, position=position)
    form_publish(form=form, by=None)
    form.refresh_from_db()
    return form


def hubspot(client, form, body, portal_id="62515"):
    url = reverse("capture:hubspot_submit", kwargs={"portal_id": portal_id, "guid": form.guid})
    return client.post(url, body, content_type="application/json")


def test_a_new_form_has_hubspots_and_salesforces_names_preset():
    form = FormFactory()
    for alias, key in {
        "firstname": "first_name",
        "lastname": "last_name",
        "numemployees": "company_size",
        "jobtitle": "job_title",
        "company": "company",
        "title": "job_title",
        "employees": "company_size",
        "first_name": "first_name",
    }.items():
        assert form.field_aliases[alias] == key


def test_hubspots_default_property_names_fill_the_form_and_the_leads_name_and_company(client, form):
    body = json.loads((FIXTURES / "hubspot" / "v3_default_properties.json").read_text())
    response = hubspot(client, form, body)
    assert response.status_code == 200, response.content
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.company) == ("Ana", "Souza", "Acme Ltda")
    assert lead.attributes["job_title"] == "Head of Operations"
    assert lead.attributes["company_size"] == 80
    submission = Submission.objects.get()
    assert submission.payload["first_name"] == "Ana"
    assert "firstname" not in submission.payload
    assert submission.utm == {"utm_source": "ads", "utm_campaign": "spring"}


def test_hubspots_documented_request_lands_with_the_aliased_first_name(client, form):
    body = json.loads((FIXTURES / "hubspot" / "v3_submit_docs.json").read_text())
    response = hubspot(client, form, body)
    assert response.status_code == 200, response.content
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name) == ("example@example.com", "Jeff")
    # On the public endpoint submittedAt is kept as sent, not used: anyone may post there.
    assert Submission.objects.get().payload["submittedAt"] == "1517927174000"


def test_without_the_alias_the_public_endpoint_refuses_the_name_as_hubspot_does(client, form):
    Form.objects.filter(pk=form.pk).update(field_aliases={})
    form.refresh_from_db()
    body = {
        "fields": [
            {"name": "email", "value": "a@acme.example"},
            {"name": "jobtitle", "value": "CTO"},
        ]
    }
    response = hubspot(client, form, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "FIELD_NOT_IN_FORM_DEFINITION"


def test_a_name_the_form_has_is_never_renamed(client):
    form = FormFactory(publish=False)  # it has company_size, and "company" is its own field
    FormField.objects.create(form=form, key="title", label="Title", position=9)
    form_publish(form=form, by=None)
    form.refresh_from_db()
    body = {
        "fields": [
            {"name": "email", "value": "a@acme.example"},
            {"name": "title", "value": "Dr"},
            {"name": "company", "value": "Acme"},
        ]
    }
    assert hubspot(client, form, body).status_code == 200
    payload = Submission.objects.get().payload
    assert payload["title"] == "Dr"
    assert "job_title" not in payload


def test_web_to_lead_reads_its_names_through_the_forms_aliases(client, form):
    Form.objects.filter(pk=form.pk).update(
        field_aliases={"title": "job_title", "role": "job_title"}
    )
    body = {
        "oid": str(form.guid),
        "last_name": "Souza",
        "company": "Acme",
        "email": "ana@acme.example",
        "role": "CTO",
        "employees": "80",
    }
    response = client.post("/servlet/servlet.WebToLead?encoding=UTF-8", body)
    assert response.status_code == 200
    submission = Submission.objects.get()
    assert submission.lead.attributes["job_title"] == "CTO"
    # The employees alias was taken out: kept under Salesforce's own name.
    assert submission.payload["employees"] == "80"
    assert (submission.lead.last_name, submission.lead.company) == ("Souza", "Acme")


def test_a_marketer_edits_the_aliases_on_the_settings_page(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    url = reverse("capture:form_edit", args=[form.pk])
    page = client.get(url)
    assert "firstname = first_name" in page.content.decode()
    data = {**page.context["bound"].initial, "allowed_origins": ""}
    data = {key: value for key, value in data.items() if value is not None}
    data["field_aliases"] = "fname = first_name\nposition = job_title\n"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["bound"].errors
    form.refresh_from_db()
    assert form.field_aliases == {"fname": "first_name", "position": "job_title"}
    body = {
        "fields": [
            {"name": "email", "value": "a@acme.example"},
            {"name": "fname", "value": "Ana"},
            {"name": "position", "value": "CTO"},
        ]
    }
    assert hubspot(client, form, body).status_code == 200
    lead = Lead.objects.get()
    assert (lead.first_name, lead.attributes["job_title"]) == ("Ana", "CTO")


def test_an_alias_line_that_is_not_one_is_refused_naming_the_field(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    url = reverse("capture:form_edit", args=[form.pk])
    data = {**client.get(url).context["bound"].initial, "allowed_origins": ""}
    data = {key: value for key, value in data.items() if value is not None}
    data["field_aliases"] = "firstname first_name\nx = not a key"
    response = client.post(url, data)
    assert response.status_code == 400
    errors = response.context["bound"].errors["field_aliases"]
    assert errors[0].startswith("Line 1: write it as posted name = form key")
    assert errors[1].startswith("Line 2: 'not a key' is not a form key")


ALIAS = st.text(min_size=1, max_size=30).filter(
    lambda text: (
        text.strip() == text and "=" not in text and text.isprintable() and not text.startswith("#")
    )
)
KEY = st.from_regex(r"^[a-z][a-z0-9_]{0,20}$", fullmatch=True)


@given(st.dictionaries(ALIAS, KEY, max_size=20))
def test_aliases_written_as_text_read_back_the_same(aliases):
    assert aliases_from_text(aliases_as_text(aliases)) == (aliases, [])


def test_the_preset_reads_back_from_its_own_text():
    assert aliases_from_text(aliases_as_text(PRESET_ALIASES)) == (PRESET_ALIASES, [])
