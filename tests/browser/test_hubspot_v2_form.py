"""A site still on HubSpot's legacy v2 form post: a plain HTML form (no script) on the
company's own site posts to /uploads/form/v2/{portal}/{guid} with `hs_context`. Changing only
the host, the visitor is sent on to the thank-you page (302) or stays on the page (204), as
HubSpot answered, and the lead lands with its page and UTM tags."""

import json

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from leads.capture.models import Form
from leads.models import Lead, Submission
from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# http: chromium asks before an https page posts a form to an http server (the live server).
SITE = "http://www.acme.example"
PORTAL = "62515"
GUID = "8c0d5a3e-1b2f-4a6c-9d7e-0f1a2b3c4d5e"

# The site's own page, as a HubSpot v2 integration writes it: property names as HubSpot's,
# hs_context a JSON string in a hidden input.
SITE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Acme - talk to us</title></head>
<body style="font-family: sans-serif; margin: 2rem">
<h1>Talk to Acme's partners team</h1>
<form method="post" action="{action}">
  <p><label>First name <input name="firstname" value="Bea"></label></p>
  <p><label>Last name <input name="lastname" value="Santos"></label></p>
  <p><label>E-mail <input name="email" value="{email}"></label></p>
  <p><label>Company <input name="company" value="Santos Logistica"></label></p>
  <p><label>Employees <input name="numemployees" value="120"></label></p>
  <p><label>Country <input name="country" value="Brazil"></label></p>
  <input type="hidden" name="hs_context" value='{context}'>
  <p><button type="submit">Send</button></p>
</form></body></html>"""
THANKS = "<!doctype html><html><body><h1>Thank you, we will call you</h1></body></html>"


def _site(page: Page, live_server, *, email: str, redirect: bool) -> None:
    """Serve the site's page (and its thank-you page) at SITE, in the browser only."""
    landing = f"{SITE}/partners?utm_source=newsletter&utm_campaign=q4"
    context = {"pageUrl": landing, "pageName": "Partners"}
    if redirect:
        context["redirectUrl"] = f"{SITE}/thanks"
    html = SITE_PAGE.format(
        action=f"{live_server.url}/uploads/form/v2/{PORTAL}/{GUID}",
        email=email,
        context=json.dumps(context),
    )
    page.route(
        f"{SITE}/partners*", lambda route: route.fulfill(body=html, content_type="text/html")
    )
    page.route(f"{SITE}/thanks", lambda route: route.fulfill(body=THANKS, content_type="text/html"))
    page.goto(landing)


@pytest.fixture
def hubspot_form():
    demo_seed(leads=0)
    form = Form.objects.get(slug="talk-to-sales")
    form.hubspot_portal_id, form.hubspot_form_guid = PORTAL, GUID
    form.allowed_origins = [SITE]
    form.save(update_fields=["hubspot_portal_id", "hubspot_form_guid", "allowed_origins"])
    return form


def test_a_plain_form_posting_to_the_v2_url_sends_the_visitor_on(
    page: Page, live_server, snap, hubspot_form
):
    _site(page, live_server, email="bea@santos.example", redirect=True)
    snap("hubspot-v2-site-form")
    with page.expect_response(lambda r: "/uploads/form/v2/" in r.url) as answer:
        page.get_by_role("button", name="Send").click()
    assert answer.value.status == 302
    assert answer.value.headers["location"] == f"{SITE}/thanks"
    expect(page.get_by_role("heading", name="Thank you, we will call you")).to_be_visible()
    assert page.url == f"{SITE}/thanks"
    snap("hubspot-v2-thanks")

    lead = Lead.objects.get(email="bea@santos.example")
    assert (lead.first_name, lead.last_name, lead.company) == ("Bea", "Santos", "Santos Logistica")
    submission = Submission.objects.get(lead=lead)
    assert submission.page_url.startswith(f"{SITE}/partners")
    assert submission.utm.get("utm_source") == "newsletter"

    log_in(page, "sales.manager")
    page.goto(reverse("inbox:lead", args=[lead.pk]))
    expect(page.get_by_role("heading", name="Bea Santos")).to_be_visible()
    snap("hubspot-v2-lead")


def test_without_a_redirect_url_the_answer_is_204_and_the_visitor_stays(
    page: Page, live_server, snap, hubspot_form
):
    _site(page, live_server, email="rui@santos.example", redirect=False)
    with page.expect_response(lambda r: "/uploads/form/v2/" in r.url) as answer:
        page.get_by_role("button", name="Send").click()
    assert answer.value.status == 204
    page.wait_for_timeout(300)  # a 204 leaves the browser where it is
    assert page.url.startswith(f"{SITE}/partners")
    expect(page.get_by_role("heading", name="Talk to Acme's partners team")).to_be_visible()
    snap("hubspot-v2-204-stays")
    assert Lead.objects.filter(email="rui@santos.example").exists()
