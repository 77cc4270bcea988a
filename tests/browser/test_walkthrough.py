"""One lead's whole trip in a real browser: the public form, routing, the rep, the dashboard."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Lead, LeadEvent, Stage, Submission
from portal.demo.services import DEMO_PASSWORD, demo_seed
from tests.browser.session import log_out

pytestmark = [
    pytest.mark.browser,
    # The roles are rows written by a data migration, and a transactional test ends by
    # emptying every table: the serialized copy puts them back for the next test.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FORM_URL = "/f/talk-to-sales/"
EMAIL = "paula.prado@prisma.example"
QUALIFYING = {
    "First name": "Paula",
    "Last name": "Prado",
    "Company": "Prisma Ltda",
    "Number of employees": "120",
    "Job title": "Head of Sales",
}
ONE_MEGABYTE = "x" * 1024 * 1024


def test_lead_goes_from_the_public_form_to_accepted_on_the_dashboard(
    page: Page, snap, csp_violations
):
    demo_seed(leads=24)

    page.goto(FORM_URL)
    expect(page.get_by_role("heading", name="Talk to sales")).to_be_visible()
    snap("form")
    _fill(page, QUALIFYING)
    page.get_by_label("Country").select_option("Brazil")
    page.get_by_label("I agree to be contacted").check()

    _send_rejected(page, field="Work e-mail", reason="This field is required.")
    snap("form-error-missing-email")
    page.get_by_label("Work e-mail").fill("paula.prado(at)prisma.example")
    _send_rejected(page, field="Work e-mail", reason="Enter a valid email address.")
    snap("form-error-malformed-email")
    page.get_by_label("Work e-mail").fill(EMAIL)
    # The browser cuts what is typed at the input's maxlength; a script posting to the
    # public form does not, and the server must refuse it.
    page.get_by_label("Job title").evaluate("input => input.removeAttribute('maxlength')")
    page.get_by_label("Job title").fill(ONE_MEGABYTE)
    _send_rejected(
        page,
        field="Job title",
        reason="Ensure this value has at most 255 characters (it has 1048576).",
    )
    snap("form-error-one-megabyte-job-title")

    page.get_by_label("Job title").fill(QUALIFYING["Job title"])
    assert _send(page) == 302
    expect(page).to_have_url(re.compile(r"/f/talk-to-sales/thanks/$"))
    expect(page.get_by_role("status")).to_have_text("Thank you! We will be in touch shortly.")
    snap("thanks")
    lead = Lead.objects.select_related("owner", "queue").get(email=EMAIL)
    assert lead.stage == Stage.ROUTED
    assert lead.queue.name == "Brazil"
    assert lead.owner.has_perm("leads.work_lead")
    rep = lead.owner

    _log_in(page, rep.username, snap, role="rep")
    expect(page).to_have_url(re.compile(r"/leads/$"))
    snap("rep-inbox")
    page.get_by_role("link", name="Paula Prado").click()
    expect(page.locator("#lead-stage")).to_have_text("Routed")
    snap("lead-routed")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("#lead-stage")).to_have_text("Accepted")
    expect(page.get_by_role("status")).to_have_text(f"You accepted {EMAIL}.")
    expect(page.locator(".timeline li").last).to_contain_text(f"Routed → Accepted by {rep}")
    snap("lead-accepted")
    accepted = LeadEvent.objects.get(lead=lead, to_stage=Stage.ACCEPTED)
    assert (accepted.from_stage, accepted.actor) == (Stage.ROUTED, rep)

    _log_out(page, snap)
    _log_in(page, "sales.manager", snap, role="sales-manager")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    snap("dashboard")
    # The default period starts 90 days back and the demo leads are spread over those 90
    # days; all time compares with every lead without a race at the window's edge.
    page.get_by_role("link", name="All time").click()
    expect(page).to_have_url(re.compile(r"/dashboard/\?period=all$"))
    snap("dashboard-all-time")
    funnel = page.locator('table[data-panel="funnel"]')
    accepted_row = funnel.locator("tbody tr", has_text="Accepted")
    # A recount, one lead at a time: reached accepted, or a stage only an accepted lead reaches.
    after_accepted = [Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY, Stage.WON, Stage.LOST]
    expected = sum(
        1 for one in Lead.objects.all() if one.events.filter(to_stage__in=after_accepted).exists()
    )
    assert _number(accepted_row.locator("td").first) == expected
    assert _number(funnel.locator("tbody tr", has_text="Captured").locator("td").first) == (
        Lead.objects.count()
    )
    expect(page.locator('svg[data-chart="funnel"] rect')).to_have_count(7)

    other_rep = lead.queue.members.exclude(rep=rep).first().rep
    _log_out(page, snap)
    _log_in(page, other_rep.username, snap, role="other-rep")
    expect(page.get_by_role("link", name="Paula Prado")).to_have_count(0)
    snap("other-rep-inbox")
    response = page.goto(lead.get_absolute_url())
    assert response.status == 404
    snap("other-rep-opens-lead")
    assert csp_violations == []


def test_the_browser_reports_what_the_policy_refuses(page: Page, csp_violations):
    """The check above can fail: an inline script on a page of ours is refused, and said."""
    page.goto("/login/")
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.ran = true"; document.body.append(s); }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ran === undefined")
    assert any("script-src 'self'" in text for text in csp_violations), csp_violations


def _fill(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(label).fill(value)


def _send(page: Page) -> int:
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Send").click()
    return posted.value.status


def _send_rejected(page: Page, *, field: str, reason: str) -> None:
    """Send the form, see it refused for `field` and why, and find nothing stored."""
    stored = (Submission.objects.count(), Lead.objects.count())
    assert _send(page) == 400
    expect(page.locator("#form-errors")).to_contain_text(f"{field}: {reason}")
    expect(page.get_by_label(field)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(field)).to_have_accessible_description(reason)
    assert (Submission.objects.count(), Lead.objects.count()) == stored


def _log_in(page: Page, username: str, snap, *, role: str) -> None:
    page.goto("/login/")
    snap(f"login-as-{role}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name=re.compile(r"^Account menu"))).to_be_visible()


def _log_out(page: Page, snap) -> None:
    log_out(page)
    expect(page).to_have_url(re.compile(r"/login/$"))
    snap("logged-out")


def _number(cell) -> int:
    return int(cell.inner_text().replace(",", ""))
