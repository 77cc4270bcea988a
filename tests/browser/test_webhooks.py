"""A sales manager registers a webhook endpoint (a real receiver on this machine), is refused
an address inside until it is allowed, presses the test button and sees the attempt in the
log; then switches it off, confirming; at desktop and at phone size. A marketer has no
Webhooks page."""

from ipaddress import ip_network

import pytest
from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from portal.demo.services import demo_seed
from portal.integrations.webhooks.models import Endpoint
from tests.browser.session import log_in
from tests.portal.integrations.webhooks.conftest import Receiver

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.stop()


def test_a_manager_registers_an_endpoint_tests_it_and_reads_the_log(
    page: Page, snap, settings, receiver, csp_violations
):
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    demo_seed(leads=0)
    log_in(page, "sales.manager")
    page.get_by_role("link", name="Webhooks").click()
    # The demo's example endpoint, switched off until someone points it at a receiver.
    expect(page.locator("#endpoints")).to_contain_text("CRM (example)")
    snap("webhooks-demo-example")
    Endpoint.objects.all().delete()
    page.reload()
    expect(page.locator("#no-endpoints")).to_be_visible()
    snap("webhooks-empty")

    page.get_by_role("link", name="Add an endpoint").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("Lead qualified").check()
    page.get_by_label("Lead won").check()
    page.get_by_role("button", name="Save").click()
    # The receiver is on 127.0.0.1: refused, saying why, on the URL field.
    expect(
        page.get_by_text("127.0.0.1 is a private, loopback or link-local address")
    ).to_be_visible()
    snap("webhooks-refused-inside")

    settings.WEBHOOKS_ALLOWED_NETWORKS = [ip_network("127.0.0.0/8")]
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="CRM sync")).to_be_visible()
    expect(page.locator("#no-deliveries")).to_be_visible()
    page.get_by_text("Show the secret").click()
    secret = page.locator("#secret").inner_text()
    assert secret.startswith("whsec_")

    page.get_by_role("button", name="Send a test message").click()
    expect(page.get_by_text("A test message is on its way")).to_be_visible()
    delivery = page.locator("#deliveries > li").first
    expect(delivery).to_contain_text("webhook.test")
    expect(delivery).to_contain_text("Delivered")
    expect(delivery.locator("table.attempts")).to_contain_text("200 OK")
    snap("webhooks-test-logged")
    (request,) = receiver.received
    assert Webhook(secret).verify(request["body"], request["headers"])["type"] == "webhook.test"

    page.get_by_role("link", name="Switch off").click()
    expect(page.get_by_role("heading", name="Switch this endpoint off?")).to_be_visible()
    snap("webhooks-confirm-off")
    page.get_by_role("button", name="Switch off").click()
    expect(page.get_by_text("Switched CRM sync off.")).to_be_visible()
    expect(page.get_by_role("link", name="Switch on")).to_be_visible()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/webhooks/")
    expect(page.locator("#endpoints")).to_contain_text("CRM sync")
    snap("webhooks-list-phone")
    problems = _problems(page)
    page.get_by_role("link", name="CRM sync").click()
    snap("webhooks-endpoint-phone")
    problems += _problems(page)
    page.get_by_role("link", name="Edit").click()
    problems += _problems(page)
    assert not problems, "\n".join(problems)
    assert csp_violations == []


def _problems(page: Page) -> list[str]:
    """Wider than the phone, or a serious or critical axe-core (WCAG 2.1 A/AA) violation."""
    from axe_playwright_python.sync_playwright import Axe

    found = []
    if page.evaluate("document.documentElement.scrollWidth") > 390:
        found.append(f"{page.url}: wider than the phone")
    wcag = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    for violation in Axe().run(page, options=wcag).response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"][:3]]
            found.append(f"{page.url}: {violation['impact']} {violation['id']} at {targets}")
    return found


def test_a_marketer_has_no_webhooks_page(page: Page):
    demo_seed(leads=0)
    log_in(page, "marketer")
    expect(page.get_by_role("link", name="Webhooks")).to_have_count(0)
    response = page.goto("/webhooks/")
    assert response.status == 403
