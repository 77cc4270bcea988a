"""The marketer switches a HubSpot site over: sets HubSpot's portal id and form GUID on the
form and adds an alias in the form builder; a post to the HubSpot URL the site already uses,
with HubSpot's default property names, lands with the lead's name and company. And the
marketing manager makes an account token, sees it once, and revokes it."""

import re
import uuid

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from leads.capture.models import Form, HubSpotAccountToken
from leads.models import Lead
from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

HUBSPOT_GUID = "3f2a9b1c-7d4e-4f60-8a2b-9c1d0e5f6a7b"

# As a HubSpot site's own script sends it (HubSpot's "Submit data to a form"), with HubSpot's
# default contact property names and one custom property the marketer aliases.
POST = """async ([url, body]) => {
  const response = await fetch(url, {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  return [response.status, await response.json()];
}"""


def test_a_marketer_switches_a_hubspot_site_over(page: Page, snap, csp_violations):
    demo_seed(leads=0)
    form = Form.objects.get(slug="talk-to-sales")
    log_in(page, "marketer")
    page.goto(reverse("capture:form_edit", args=[form.pk]))
    page.get_by_label("HubSpot portal id").fill("62515")
    page.get_by_label("HubSpot form GUID").fill(HUBSPOT_GUID)
    aliases = page.get_by_label("Field aliases")
    expect(aliases).to_have_value(re.compile("numemployees = company_size"))
    aliases.fill(aliases.input_value() + "\nhs_role = job_title")
    aliases.scroll_into_view_if_needed()
    snap("compat-settings-aliases")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#hubspot-ids")).to_contain_text(HUBSPOT_GUID)
    expect(page.locator("#field-aliases")).to_contain_text("hs_role")
    url = f"/submissions/v3/integration/submit/62515/{HUBSPOT_GUID}"
    expect(page.locator("#hubspot-url")).to_have_text(page.url.split("/forms/")[0] + url)
    page.locator("#where-heading").scroll_into_view_if_needed()
    snap("compat-builder-hubspot-urls")

    body = {
        "fields": [
            {"objectTypeId": "0-1", "name": "email", "value": "ana.souza@acme.example"},
            {"objectTypeId": "0-1", "name": "firstname", "value": "Ana"},
            {"objectTypeId": "0-1", "name": "lastname", "value": "Souza"},
            {"objectTypeId": "0-1", "name": "company", "value": "Acme Ltda"},
            {"objectTypeId": "0-1", "name": "numemployees", "value": "250"},
            {"objectTypeId": "0-1", "name": "country", "value": "Brazil"},
            {"objectTypeId": "0-1", "name": "hs_role", "value": "Head of Operations"},
        ],
        "context": {"pageUri": "https://www.acme.example/demo?utm_source=ads", "pageName": "Demo"},
    }
    status, answer = page.evaluate(POST, [url, body])
    assert status == 200, answer
    assert "inlineMessage" in answer

    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.company) == ("Ana", "Souza", "Acme Ltda")
    assert lead.attributes["job_title"] == "Head of Operations"
    assert lead.attributes["company_size"] == 250
    page.goto(reverse("inbox:lead", args=[lead.pk]))
    expect(page.get_by_role("heading", name="Ana Souza")).to_be_visible()
    expect(page.get_by_text("Acme Ltda").first).to_be_visible()
    snap("compat-lead-from-hubspot-names")
    assert csp_violations == []


def test_a_marketing_manager_makes_and_revokes_an_account_token(page: Page, snap, csp_violations):
    demo_seed(leads=0)
    log_in(page, "marketing.manager")
    page.goto(reverse("capture:form_list"))
    page.get_by_role("link", name="HubSpot account tokens").click()
    expect(page.locator("#no-account-tokens")).to_be_visible()
    snap("account-tokens-empty")
    page.get_by_label("Who uses it").fill("Website server")
    page.get_by_role("button", name="Make the token").click()
    token = page.locator("#account-token").input_value()
    assert token.startswith("lbpat-")
    snap("account-token-shown-once")
    page.get_by_role("link", name="Back to the tokens").click()
    expect(page.locator("#account-tokens")).to_contain_text("Website server")
    expect(page.locator("body")).not_to_contain_text(token)

    guid = str(Form.objects.get(slug="talk-to-sales").guid)
    status = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: "POST", headers: {
            "Content-Type": "application/json", "Authorization": "Bearer " + token},
            body: JSON.stringify({fields: [{name: "email", value: "relay@acme.example"},
              {name: "firstname", value: "Rui"}, {name: "lastname", value: "Relay"},
              {name: "company", value: "Relay Co"}, {name: "numemployees", value: "12"},
              {name: "country", value: "Brazil"}],
              context: {ipAddress: "203.0.113.7"}})})).status""",
        [f"/submissions/v3/integration/secure/submit/0/{guid}", token],
    )
    assert status == 200
    page.reload()
    expect(page.locator("#account-tokens")).not_to_contain_text("Never")
    snap("account-tokens-used")

    page.get_by_role("link", name="Revoke Website server").click()
    expect(page.get_by_role("heading", name="Revoke the account token")).to_be_visible()
    snap("account-token-revoke-confirm")
    page.get_by_role("button", name="Yes, revoke it").click()
    expect(page.locator("#account-tokens")).to_contain_text("Revoked")
    snap("account-tokens-revoked")
    assert not HubSpotAccountToken.objects.get().is_active
    assert Lead.objects.get().company == "Relay Co"
    assert csp_violations == []
    assert uuid.UUID(guid)
