"""A marketer builds a form in the portal, publishes it, and a visitor sends it, in Chromium."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Submission
from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_marketer_builds_publishes_and_versions_a_form(page: Page, snap):
    demo_seed(leads=0)
    log_in(page, "marketer")

    page.get_by_role("link", name="Forms").click()
    page.get_by_role("link", name="New form").click()
    labelled(page, "Name").fill("Partner programme")
    labelled(page, "Address (slug)").fill("partners")
    labelled(page, "Campaign").fill("Partners 2027")
    labelled(page, "Campaign brief").fill("Agencies with 50+ people who resell in Brazil.")
    labelled(page, "Consent text").fill("I agree that LeadBridge contacts me about partnering.")
    labelled(page, "Phone region").select_option("BR")
    snap("builder-new-form")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Created Partner programme")

    add_field(page, "Company", "company", "Text", required=True)
    add_field(page, "Employees", "company_size", "Whole number", required=True)
    add_field(page, "Country", "country", "Country", required=True)
    add_field(page, "Mobile", "phone", "Phone")
    add_field(page, "Yearly budget (USD)", "budget", "Decimal number")
    add_field(page, "Interested in", "interest", "Multiple choice", choices="Reselling\nReferrals")
    add_field(page, "Start date", "start_date", "Date")
    add_field(page, "Consent", "consent", "Consent checkbox", required=True)
    add_field(
        page, "Campaign code", "campaign_code", "Hidden (UTM or campaign value)", default="P27"
    )
    page.get_by_role("button", name="Move Country up").click()
    expect(page.locator("#fields tbody tr").nth(2)).to_contain_text("Country")
    snap("builder-draft-fields")

    page.get_by_role("link", name="Preview draft").click()
    expect(page.get_by_role("heading", name="Partner programme")).to_be_visible()
    expect(page.get_by_label(re.compile(r"^\s*Mobile"))).to_be_visible()
    snap("builder-preview")
    page.go_back()

    page.get_by_role("link", name="Publish").click()
    expect(page.get_by_role("heading", name="Publish Partner programme?")).to_be_visible()
    page.get_by_role("button", name="Yes, publish").click()
    expect(page.get_by_role("status")).to_have_text("Published Partner programme as version 1.")
    expect(stat(page, "submissions")).to_have_text("0")
    snap("builder-published-v1")
    hosted = page.locator("#hosted-url").inner_text()
    assert hosted.endswith("/f/partners/")
    expect(page.locator("#endpoint-url")).to_have_text(re.compile(r"/api/v1/forms/partners/"))

    # A visitor fills in the public page: first without consent, then with it.
    page.goto(hosted)
    labelled(page, "Work e-mail").fill("Marta@Agencia.example")
    labelled(page, "Company").fill("Agência Norte")
    labelled(page, "Country").select_option("Brazil")
    labelled(page, "Employees").fill("120")
    labelled(page, "Mobile").fill("(11) 98765-4321")
    labelled(page, "Yearly budget (USD)").fill("25000.50")
    page.get_by_label("Reselling").check()
    labelled(page, "Start date").fill("2027-01-15")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#form-errors")).to_contain_text("we need your consent")
    snap("public-refused-without-consent")
    page.get_by_label(re.compile("I agree that LeadBridge")).check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you")

    submission = Submission.objects.get(form__slug="partners")
    assert submission.form_version.number == 1
    lead = submission.lead
    assert lead.attributes["phone"] == "+5511987654321"
    assert lead.attributes["country"] == "BR"  # ISO codes underneath, names on pages
    assert lead.attributes["budget"] == "25000.5"
    assert lead.attributes["campaign_code"] == "P27"
    assert submission.consent is True

    page.goto("/forms/")
    expect(page.get_by_role("row", name=re.compile("Partner programme"))).to_contain_text(
        "Published"
    )
    page.get_by_role("link", name="Partner programme").click()
    expect(stat(page, "submissions")).to_have_text("1")
    expect(stat(page, "leads")).to_have_text("1")
    expect(stat(page, "qualified")).to_have_text("1")
    snap("builder-statistics-after-a-submission")

    # Editing the published form edits a draft; publishing it makes version 2.
    page.get_by_role("link", name="Edit Employees").click()
    labelled(page, "Label").fill("Team size")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#version-state")).to_contain_text("unpublished changes")
    page.goto(hosted)
    expect(page.get_by_label(re.compile(r"^\s*Employees"))).to_be_visible()  # still v1
    page.go_back()
    page.get_by_role("link", name="Publish new version").click()
    page.get_by_role("button", name="Yes, publish").click()
    expect(page.get_by_role("status")).to_have_text("Published Partner programme as version 2.")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    snap("builder-published-v2")

    page.goto(hosted)
    expect(page.get_by_label(re.compile(r"^\s*Team size"))).to_be_visible()
    labelled(page, "Work e-mail").fill("marta@agencia.example")
    labelled(page, "Company").fill("Agência Norte")
    labelled(page, "Country").select_option("Brazil")
    labelled(page, "Team size").fill("130")
    page.get_by_label(re.compile("I agree that LeadBridge")).check()
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you")

    # The lead page: the first submission under v1's labels, the second under v2's.
    page.goto(lead.get_absolute_url())
    first, second = (
        page.locator("li.submission").filter(has_text=f"Partner programme v{n}") for n in (1, 2)
    )
    first.locator("summary").click()
    second.locator("summary").click()
    expect(first).to_contain_text("Employees")
    expect(first).to_contain_text("120")
    expect(first).not_to_contain_text("Team size")
    expect(second).to_contain_text("Team size")
    expect(second).to_contain_text("130")
    told_us = page.get_by_role("region", name="What the lead told us")
    expect(told_us).to_contain_text("Interested inReselling")  # v2 left it blank: kept
    snap("lead-page-submissions-under-their-versions")


def add_field(page: Page, label: str, key: str, kind: str, *, required=False, **more) -> None:
    page.get_by_role("link", name="Add field").click()
    labelled(page, "Label").fill(label)
    labelled(page, "Key (lead attribute)").fill(key)
    labelled(page, "Kind").select_option(label=kind)
    if required:
        labelled(page, "Required").check()
    if "choices" in more:
        labelled(page, "Choices").fill(more["choices"])
    if "default" in more:
        labelled(page, "Default value").fill(more["default"])
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(f"Added the field {label} to the draft.")


def labelled(page: Page, name: str):
    """The control labelled `name`, with or without crispy's required asterisk."""
    return page.get_by_label(re.compile(rf"^\s*{re.escape(name)}\s*\*?\s*$"))


def stat(page: Page, name: str):
    return page.locator(f'[data-stat="{name}"]')
