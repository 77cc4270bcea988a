"""A site changes only the host: the form is found by the Salesforce org id (`oid`, or `orgId`
in the query) and by the HubSpot portal id and form GUID the marketer set on it."""

import json
import uuid
from pathlib import Path

import pytest
from django.urls import reverse

from leads.capture.models import Form
from leads.models import Lead, Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
ORG_ID = "00D5g000004ABcd"  # 15 characters; Salesforce's generated forms may carry the 18
HUBSPOT_GUID = uuid.UUID("5e1a4c8b-0f2d-4b6a-9c3e-7d8f9a0b1c2d")
FORM_ENCODED = "application/x-www-form-urlencoded"


@pytest.fixture
def form():
    form = FormFactory(allowed_origins=["https://www.acme.example"])
    Form.objects.filter(pk=form.pk).update(
        salesforce_org_id=ORG_ID, hubspot_portal_id="62515", hubspot_form_guid=HUBSPOT_GUID
    )
    form.refresh_from_db()
    return form


def web_to_lead(client, oid, query="encoding=UTF-8"):
    body = (FIXTURES / "web_to_lead" / "org_id.txt").read_text().replace("{oid}", oid)
    return client.post(f"/servlet/servlet.WebToLead?{query}", body, content_type=FORM_ENCODED)


@pytest.mark.parametrize("oid", [ORG_ID, ORG_ID + "AAQ"])
def test_web_to_lead_finds_the_form_by_its_salesforce_org_id(client, form, oid):
    response = web_to_lead(client, oid)
    assert response.status_code == 200, response.content
    lead = Lead.objects.get()
    assert lead.source_form_id == form.pk
    assert (lead.first_name, lead.last_name, lead.company) == ("Ana", "Souza", "Acme")
    assert lead.attributes["company_size"] == 80


def test_web_to_lead_takes_the_org_id_from_the_query_when_the_body_has_none(client, form):
    response = web_to_lead(client, "", query=f"encoding=UTF-8&orgId={ORG_ID}")
    assert response.status_code == 200, response.content
    assert Submission.objects.get().form_id == form.pk


def test_the_forms_own_guid_still_works_as_oid(client, form):
    assert web_to_lead(client, str(form.guid)).status_code == 200


def test_another_org_id_finds_no_form(client, form):
    assert web_to_lead(client, "00D5g000004ZZzz").status_code == 404
    assert not Submission.objects.exists()


def hubspot(client, portal_id, guid, body=None):
    body = body or {"fields": [{"name": "email", "value": "ana@acme.example"}]}
    url = reverse("capture:hubspot_submit", kwargs={"portal_id": portal_id, "guid": guid})
    return client.post(url, body, content_type="application/json")


def test_hubspot_finds_the_form_by_hubspots_portal_id_and_form_guid(client, form):
    response = hubspot(client, "62515", HUBSPOT_GUID)
    assert response.status_code == 200, response.content
    assert Submission.objects.get().form_id == form.pk


def test_hubspots_form_guid_under_another_portal_is_not_found(client, form):
    response = hubspot(client, "999", HUBSPOT_GUID)
    assert response.status_code == 404
    assert response.json()["errors"][0]["errorType"] == "FORM_NOT_FOUND"


def test_our_own_guid_works_under_any_portal_id(client, form):
    assert hubspot(client, "999", form.guid).status_code == 200


def test_the_hubspot_guid_opens_cors_for_the_forms_sites(client, form):
    url = reverse("capture:hubspot_submit", kwargs={"portal_id": "62515", "guid": HUBSPOT_GUID})
    body = json.dumps({"fields": [{"name": "email", "value": "ana@acme.example"}]})
    response = client.post(
        url, body, content_type="application/json", HTTP_ORIGIN="https://www.acme.example"
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://www.acme.example"


def settings_data(client, form, **changes):
    page = client.get(reverse("capture:form_edit", args=[form.pk]))
    data = {**page.context["bound"].initial, "allowed_origins": "", **changes}
    return {key: value for key, value in data.items() if value is not None}


def test_a_marketer_sets_the_ids_and_the_builder_shows_the_urls_a_site_has(client):
    form = FormFactory()
    client.force_login(UserFactory(role=Role.MARKETER))
    data = settings_data(
        client,
        form,
        hubspot_portal_id="62515",
        hubspot_form_guid=str(HUBSPOT_GUID),
        salesforce_org_id=ORG_ID + "AAQ",
    )
    response = client.post(reverse("capture:form_edit", args=[form.pk]), data)
    assert response.status_code == 302, response.context["bound"].errors
    form.refresh_from_db()
    assert form.salesforce_org_id == ORG_ID  # the 15 characters that name the org
    page = client.get(reverse("capture:builder", args=[form.pk])).content.decode()
    assert f"/submissions/v3/integration/submit/62515/{HUBSPOT_GUID}" in page
    assert f"/uploads/form/v2/62515/{HUBSPOT_GUID}" in page
    assert ORG_ID in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("salesforce_org_id", "00E5g000004ABcd", "A Salesforce org id is 00D"),
        ("hubspot_portal_id", "62-515", "A HubSpot portal id is digits only."),
        ("hubspot_form_guid", "not-a-guid", "valid UUID"),
    ],
)
def test_an_id_that_is_not_one_is_refused_naming_the_field(client, field, value, message):
    form = FormFactory()
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.post(
        reverse("capture:form_edit", args=[form.pk]),
        settings_data(client, form, **{field: value}),
    )
    assert response.status_code == 400
    assert message in str(response.context["bound"].errors[field])


def test_two_forms_cannot_share_an_org_id_or_a_hubspot_guid(client, form):
    other = FormFactory()
    client.force_login(UserFactory(role=Role.MARKETER))
    data = settings_data(
        client, other, salesforce_org_id=ORG_ID, hubspot_form_guid=str(HUBSPOT_GUID)
    )
    response = client.post(reverse("capture:form_edit", args=[other.pk]), data)
    assert response.status_code == 400
    errors = response.context["bound"].errors
    assert (
        errors.keys() == {"__all__"} or {"salesforce_org_id", "hubspot_form_guid"} & errors.keys()
    )
    other.refresh_from_db()
    assert other.salesforce_org_id == ""
