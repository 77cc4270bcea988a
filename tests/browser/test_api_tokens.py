"""A rep makes an API token on their profile page (shown once), uses it with the REST API,
and revokes it; the API's reference (Swagger UI, ReDoc) loads under the site's CSP."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Stage
from portal.accounts.models import User
from portal.demo.services import demo_seed
from tests.browser.session import log_in, open_account_menu
from tests.factories import LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rep_makes_a_token_uses_it_and_revokes_it(page: Page, snap, csp_violations):
    from axe_playwright_python.sync_playwright import Axe

    demo_seed(leads=0)
    ana = User.objects.get(username="rep.ana")
    mine = LeadFactory(stage=Stage.ROUTED, owner=ana, first_name="Bia")
    LeadFactory(stage=Stage.ROUTED, owner=User.objects.get(username="rep.bruno"))

    log_in(page, "rep.ana")
    open_account_menu(page)
    page.get_by_role("link", name="Profile and API tokens").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.locator("#no-tokens")).to_contain_text("no API tokens yet")
    snap("api-profile-empty")

    page.get_by_label("Token name").fill("CRM sync")
    page.get_by_role("button", name="Create token").click()
    shown = page.locator("#new-token-value")
    expect(shown).to_have_value(re.compile(r"^lb_"))
    raw = shown.input_value()
    expect(page.get_by_role("row", name="CRM sync")).to_contain_text("Never")
    snap("api-token-shown-once")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}})
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, [(v["id"], [n["target"] for n in v["nodes"]]) for v in serious]

    # The token is the rep: their own lead, nobody else's; and the move goes through.
    api = page.request
    auth = {"Authorization": f"Bearer {raw}"}
    listed = api.get("/api/v1/leads/", headers=auth).json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    accepted = api.post(f"/api/v1/leads/{mine.pk}/accept/", headers=auth, data={})
    assert accepted.status == 200 and accepted.json()["stage"] == "accepted"

    # Shown once: not on the page any more; last used is shown.
    page.goto("/profile/")
    expect(page.locator("#new-token-value")).to_have_count(0)
    expect(page.get_by_role("row", name="CRM sync")).not_to_contain_text("Never")
    snap("api-token-last-used")

    page.get_by_role("link", name="Revoke CRM sync").click()
    expect(page.get_by_role("heading", name="Revoke CRM sync?")).to_be_visible()
    snap("api-token-revoke-confirm")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.get_by_text("Revoked CRM sync")).to_be_visible()
    assert api.get("/api/v1/leads/", headers=auth).status == 401

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    snap("api-profile-phone")
    assert not csp_violations


READERS = [("/api/docs/", ".swagger-ui .info"), ("/api/redoc/", "h1")]


@pytest.mark.parametrize(("path", "ready"), READERS)
def test_the_api_reference_loads_from_our_own_files(
    page: Page, artifacts, csp_violations, path, ready
):
    page.goto(path)
    expect(page.locator(ready).first).to_contain_text("LeadBridge API", timeout=20_000)
    # The viewport only: the whole reference is too tall for one screenshot.
    name = path.strip("/").replace("/", "-")
    page.screenshot(path=artifacts / f"api-reference-{name}.png", timeout=30_000)
    assert not csp_violations
