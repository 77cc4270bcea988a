"""A site's own Salesforce Web-to-Lead form, in a windows-1252 page, posts to us from Chromium:
the visitor is sent on to retURL, and the marketer sees on the lead page what was kept raw."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from leads.capture.models import Form
from leads.models import Lead
from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The HTML Salesforce's Web-to-Lead setup generates (trimmed), on a site in windows-1252, so
# the browser itself encodes "Müller" and "Café" as single bytes (accept-charset: a page set
# with set_content is always UTF-8, whatever its meta says).
SITE_PAGE = """<!doctype html>
<html><head><meta charset="windows-1252"><title>Contact us</title></head><body>
<form action="{action}" method="POST" accept-charset="windows-1252">
<input type=hidden name="oid" value="{oid}">
<input type=hidden name="retURL" value="{ret_url}">
<label for="first_name">First Name</label><input id="first_name" name="first_name" type="text"><br>
<label for="last_name">Last Name</label><input id="last_name" name="last_name" type="text"><br>
<label for="email">Email</label><input id="email" name="email" type="text"><br>
<label for="company">Company</label><input id="company" name="company" type="text"><br>
<label for="employees">Employees</label><input id="employees" name="employees" type="text"><br>
<input type="submit" name="submit">
</form></body></html>"""


def test_a_latin_1_web_to_lead_post_is_kept_and_its_problems_shown(page: Page, snap, live_server):
    demo_seed(leads=0)
    form = Form.objects.get(slug="talk-to-sales")
    form.allowed_origins = [live_server.url]
    form.save(update_fields=["allowed_origins"])
    ret_url = live_server.url + reverse("capture:thanks", args=[form.slug])

    page.set_content(
        SITE_PAGE.format(
            action=f"{live_server.url}/servlet/servlet.WebToLead",
            oid=form.guid,
            ret_url=ret_url,
        )
    )
    page.get_by_label("First Name").fill("Jörg")
    page.get_by_label("Last Name").fill("Müller")
    page.get_by_label("Email").fill("joerg at example")
    page.get_by_label("Company").fill("Café Müller")
    page.get_by_label("Employees").fill("50-100")
    page.locator('input[type="submit"]').click()
    page.wait_for_url(ret_url)  # Salesforce's 200 page sent the browser on
    expect(page.get_by_text("Thank you")).to_be_visible()

    lead = Lead.objects.get()
    assert (lead.email, lead.last_name, lead.company) == (None, "Müller", "Café Müller")

    log_in(page, "marketer")
    page.goto(lead.get_absolute_url())
    problems = page.locator("#field-problems")
    expect(problems).to_contain_text("Work e-mail “joerg at example”: Enter a valid email")
    expect(problems).to_contain_text("Number of employees “50-100”: Enter a whole number.")
    expect(problems).to_contain_text("read as windows-1252")
    expect(page.locator("h1")).to_contain_text("Jörg Müller")
    snap("web-to-lead-lead-with-field-problems")
