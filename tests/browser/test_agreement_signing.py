"""A new version of the agreement, drafted, proposed and signed by both managers in a real
browser, then judging the next submission of the public form."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Lead, Stage
from portal.demo.services import demo_seed
from scoring.models import Agreement
from tests.browser.session import log_in, log_out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EMAIL = "bea.braga@lumen.example"


def test_both_managers_sign_a_new_version_and_the_next_lead_is_judged_by_it(page: Page, snap):
    demo_seed(leads=40)  # v1 active: at least 10 employees, and 10 points; 40 demo leads
    log_in(page, "marketing.manager")

    page.get_by_role("link", name="Agreement", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The agreement")
    expect(page.locator("#active")).to_contain_text("the company size is at least 10;")
    snap("agreement-v1-active")

    # Draft v2 from v1: a higher threshold, and bigger companies only.
    page.get_by_role("button", name="New draft from v1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit Agreement v2")
    page.get_by_label("Threshold (points)").fill("20")
    expect(page.get_by_label("First contact within (hours)")).to_have_value("24")
    page.get_by_label("First contact within (hours)").fill("8")
    snap("agreement-v2-terms-in-hours")
    page.get_by_role("button", name="Save terms").click()
    expect(page.get_by_role("status")).to_have_text("The terms of Agreement v2 are saved.")
    page.get_by_role("link", name="Edit Company size").click()
    page.get_by_label("Value").fill("twenty")
    assert send(page, "Save criterion") == 400
    expect(page.get_by_label("Value")).to_have_accessible_description(
        re.compile("“twenty” is not a number")
    )
    snap("agreement-criterion-value-refused")
    page.get_by_label("Value").fill("20")
    page.get_by_role("button", name="Save criterion").click()
    expect(page.locator('#criteria-list li[data-criterion="Company size"] .words')).to_have_text(
        "Company size: the company size is at least 20"
    )
    snap("agreement-v2-draft-edited")
    page.get_by_role("link", name="Propose…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Propose Agreement v2?")
    snap("agreement-v2-confirm-propose")
    page.get_by_role("button", name="Propose it").click()
    expect(page.locator("#version-status")).to_have_text("Proposed")
    expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)
    log_out(page)

    # The sales manager reads what changed, and signs.
    log_in(page, "sales.manager")
    page.goto("/agreement/")
    page.get_by_role("link", name="v2", exact=True).click()
    diff = page.locator("#diff")
    expect(diff).to_contain_text("Threshold: 10 points → 20 points")
    expect(diff).to_contain_text("First contact within: 24 hours → 8 hours")
    expect(diff).to_contain_text(
        "Company size: the company size is at least 10 (mandatory) → "
        "the company size is at least 20 (mandatory)"
    )
    snap("agreement-v2-diff-for-the-sales-manager")
    # ... and, before signing, how the last 90 days of leads would have come out under it.
    whatif = page.locator("#whatif")
    expect(whatif).to_contain_text("What if it were active: the leads in the last 90 days")
    expect(whatif).to_contain_text("from every form no other active version lists")
    expect(whatif.locator('#whatif-counts tr[data-version="2"]')).to_be_visible()
    expect(whatif.locator('#whatif-counts tr[data-version="1"]')).to_be_visible()
    expect(whatif.locator("#whatif-dropped")).to_contain_text("would no longer qualify")
    expect(whatif.locator("#whatif-failures")).to_contain_text("Company size")
    whatif.scroll_into_view_if_needed()
    snap("agreement-v2-whatif-for-the-sales-manager")
    page.get_by_role("link", name="Sign for sales…").click()
    snap("agreement-v2-confirm-sign-for-sales")
    page.get_by_role("button", name="Sign for sales").click()
    expect(page.get_by_role("status")).to_have_text(
        "You signed Agreement v2 for sales; it is active once the other side signs."
    )
    expect(page.locator("#version-status")).to_have_text("Proposed")
    log_out(page)

    # The marketing manager signs too: v2 is active, v1 retired.
    log_in(page, "marketing.manager")
    page.goto("/agreement/v2/")
    page.get_by_role("link", name="Sign for marketing…").click()
    page.get_by_role("button", name="Sign for marketing").click()
    expect(page.get_by_role("status")).to_have_text(
        "You signed Agreement v2 for marketing. Both sides have signed: it is active now."
    )
    expect(page.locator("#version-status")).to_have_text("Active")
    snap("agreement-v2-active")
    page.get_by_role("link", name="The agreement").click()
    expect(page.locator('#versions tr[data-version="1"]')).to_contain_text("Retired")
    expect(page.locator('#versions tr[data-version="2"]')).to_contain_text("Active")
    expect(page.locator("#active")).to_contain_text("the company size is at least 20;")
    expect(page.locator("#rescore-progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#effectiveness")).to_be_visible()
    snap("agreement-versions-after-signing")
    assert Agreement.objects.active().version == 2
    assert Agreement.objects.get(version=1).status == "retired"

    # A company of 15 with a job title qualified under v1; v2 needs 20 people.
    page.goto("/f/talk-to-sales/")
    page.get_by_label("Work e-mail").fill(EMAIL)
    page.get_by_label("First name").fill("Bea")
    page.get_by_label("Last name").fill("Braga")
    page.get_by_label("Company").fill("Lumen Ltda")
    page.get_by_label("Number of employees").fill("15")
    page.get_by_label("Job title").fill("Head of Operations")
    page.get_by_label("Country").select_option("Brazil")
    page.get_by_label("I agree to be contacted").check()
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_url(re.compile(r"/f/talk-to-sales/thanks/$"))

    lead = Lead.objects.get(email=EMAIL)
    assert lead.stage == Stage.DISQUALIFIED
    assert lead.qualifications.get().agreement.version == 2
    page.goto(lead.get_absolute_url())
    expect(page.locator("#lead-stage")).to_have_text("Disqualified (nurture)")
    qualification = page.locator("section", has=page.locator("#qualification-heading"))
    expect(qualification).to_contain_text("Agreement v2")
    expect(qualification).to_contain_text("company size is 15, below 20")
    expect(page.locator(".timeline > li").last).to_contain_text("(agreement v2)")
    snap("lead-judged-by-agreement-v2")


def send(page: Page, button: str) -> int:
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    return posted.value.status
