"""A second agreement for other forms, with its own working hours, drafted and signed in a
real browser: each form ends up judged by exactly one active agreement."""

import pytest
from playwright.sync_api import Page, expect

from portal.demo.services import demo_seed
from scoring.models import Agreement
from scoring.selectors import agreements_by_form
from tests.browser.test_agreement_signing import log_in, log_out
from tests.factories import FormFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_second_agreement_takes_its_forms_in_its_own_working_hours(page: Page, snap):
    demo_seed(leads=0)  # v1 active, judging every form
    webinar = FormFactory(name="Partner webinar")
    log_in(page, "marketing.manager")

    page.goto("/agreement/")
    expect(page.locator('#scopes tr[data-scope="Main agreement"]')).to_contain_text(
        "Every form no other active version lists"
    )
    page.locator("#new-scope summary").click()
    page.get_by_label("Name of the new agreement").fill("Partners")
    page.get_by_role("button", name="Start it as a draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit Agreement v2")
    expect(page.locator("#scope-heading")).to_have_text("Scope: Partners")
    # Listing no form, it would take every form, as v1 does: the editor says so.
    expect(page.locator("#scope .alert-danger")).to_contain_text(
        "Agreement v1 (Main agreement) already judges every form"
    )
    snap("agreement-scope-overlap")

    page.locator("#forms-form").get_by_label("Partner webinar").check()
    page.get_by_role("button", name="Save forms").click()
    expect(page.get_by_role("status")).to_have_text("The forms Agreement v2 judges are saved.")
    expect(page.locator("#scope .alert-danger")).to_have_count(0)

    terms = page.locator("#terms-form")
    terms.get_by_label("Sat").check()
    terms.get_by_label("Opens at").fill("08:00")
    terms.get_by_label("Closes at").fill("18:30")
    terms.get_by_label("Time zone").fill("America/Sao_Paulo")
    page.get_by_role("button", name="Save terms").click()
    expect(page.get_by_role("status")).to_have_text("The terms of Agreement v2 are saved.")

    page.locator("#add-criterion summary").click()
    page.get_by_label("Label").fill("Company size")
    page.get_by_label("Mandatory (must pass)").check()
    page.get_by_label("Attribute").fill("company_size")
    page.get_by_label("Operator").select_option("at_least")
    page.get_by_label("Value").fill("5")
    page.get_by_role("button", name="Add criterion").click()
    expect(page.locator("#criteria-list")).to_contain_text("the company size is at least 5")
    snap("agreement-scope-editor")

    page.get_by_role("link", name="Propose…").click()
    page.get_by_role("button", name="Propose it").click()
    expect(page.locator("#version-status")).to_have_text("Proposed")
    expect(page.locator("#working-hours")).to_have_text(
        "Mon to Sat, 08:00 to 18:30 (America/Sao_Paulo)"
    )
    expect(page.locator("#scope-forms")).to_have_text("Partner webinar")
    page.get_by_role("link", name="Sign for marketing…").click()
    page.get_by_role("button", name="Sign for marketing").click()
    log_out(page)

    log_in(page, "sales.manager")
    page.goto("/agreement/v2/")
    page.get_by_role("link", name="Sign for sales…").click()
    page.get_by_role("button", name="Sign for sales").click()
    expect(page.locator("#version-status")).to_have_text("Active")

    page.goto("/agreement/")
    expect(page.locator('#scopes tr[data-scope="Partners"]')).to_contain_text("Partner webinar")
    expect(page.locator('#scopes tr[data-scope="Main agreement"]')).to_contain_text("v1")
    expect(page.locator("#unjudged")).to_have_text(
        "Every form is judged by exactly one active agreement."
    )
    snap("agreement-scopes-after-signing")

    # Both active versions are shown in full, each with its scope and its forms (issue 18).
    main, partners = page.locator("#active-v1"), page.locator("#active-v2")
    expect(page.locator("#active .active-agreement")).to_have_count(2)
    expect(main.get_by_role("heading", level=2)).to_contain_text("Agreement v1")
    expect(main.get_by_role("heading", level=2)).to_contain_text("Main agreement")
    expect(main).to_contain_text("Judges every form no other active version lists.")
    expect(main).to_contain_text("the country is one of")
    expect(partners.get_by_role("heading", level=2)).to_contain_text("Agreement v2")
    expect(partners.get_by_role("heading", level=2)).to_contain_text("Partners")
    expect(partners).to_contain_text("Judges Partner webinar.")
    expect(partners).to_contain_text("the company size is at least 5")
    expect(partners.locator("#working-hours-v2")).to_have_text(
        "Mon to Sat, 08:00 to 18:30 (America/Sao_Paulo)"
    )
    snap("agreement-every-active-version")

    v1, v2 = Agreement.objects.get(version=1), Agreement.objects.get(version=2)
    assert (v1.status, v2.status) == ("active", "active")
    judged = agreements_by_form()
    assert judged[webinar.pk] == v2
    assert {agreement for pk, agreement in judged.items() if pk != webinar.pk} == {v1}
