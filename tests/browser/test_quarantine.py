"""A marketer reviews the spam quarantine in Chromium: releases a real post, discards a bot's."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.capture.intake.spam import HONEYPOT_FIELD
from leads.capture.models import QuarantinedPost
from leads.models import Lead
from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_marketer_reviews_the_quarantine_and_releases_a_post(page: Page, snap):
    demo_seed(leads=0)

    # A person with a throwaway address: held, yet thanked like everyone else.
    page.goto("/f/talk-to-sales/")
    expect(page.locator(f'input[name="{HONEYPOT_FIELD}"]')).to_have_attribute("tabindex", "-1")
    labelled(page, "Work e-mail").fill("ana@mailinator.com")
    labelled(page, "First name").fill("Ana")
    labelled(page, "Company").fill("Acme Retail")
    labelled(page, "Number of employees").fill("120")
    labelled(page, "Country").select_option(index=1)
    expect(page.locator(f'input[name="{HONEYPOT_FIELD}"]')).not_to_be_in_viewport()
    snap("quarantine-hosted-form-hides-the-honeypot")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Thank you")).to_be_visible()
    snap("quarantine-visitor-thanked")

    # A bot that fills every input it finds, the hidden one too.
    token = page.request.get("/api/v1/forms/talk-to-sales/").json()["spam"]["token"]
    bot = page.request.post(
        "/api/v1/forms/talk-to-sales/submissions/",
        data={
            "email": "bot@spam.example",
            "first_name": "Bot",
            "company": "Backlinks Ltd",
            "company_size": 10,
            "country": "Brazil",
            HONEYPOT_FIELD: "https://backlinks.example",
            "lb_rendered": token,
        },
    )
    assert bot.status == 201
    assert not Lead.objects.exists()
    assert QuarantinedPost.objects.count() == 2

    log_in(page, "marketer")
    page.get_by_role("link", name="Spam quarantine").click()
    expect(page.get_by_role("heading", name="Spam quarantine")).to_be_visible()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    snap("quarantine-list")

    page.get_by_label("Reason").select_option(label="Disposable e-mail domain")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ana@mailinator.com")
    snap("quarantine-filtered-by-reason")

    rows.first.get_by_role("link").click()
    expect(page.locator("#findings")).to_contain_text("mailinator.com is a disposable")
    expect(page.locator("#post-values")).to_contain_text("Acme Retail")
    page.get_by_role("button", name="Release into the normal flow").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why this post is not spam.")
    snap("quarantine-release-needs-a-reason")

    page.get_by_label("Why is this a real person?").fill("Ana called us; she uses this address.")
    snap("quarantine-post-detail")
    page.get_by_role("button", name="Release into the normal flow").click()
    expect(page.get_by_role("status").first).to_contain_text("Released the post")
    expect(page.get_by_text("Released from the spam quarantine by Maya Marketer")).to_be_visible()
    snap("quarantine-released-lead")
    lead = Lead.objects.get()
    assert lead.email == "ana@mailinator.com"

    page.get_by_role("link", name="Spam quarantine").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    page.get_by_role("link", name="Discard…").click()
    expect(page.get_by_role("heading", name=re.compile("Discard the post"))).to_be_visible()
    snap("quarantine-discard-confirmation")
    page.get_by_role("button", name="Yes, discard").click()
    expect(page.locator("#quarantine-empty")).to_contain_text("Nothing is held")
    snap("quarantine-empty")
    assert Lead.objects.count() == 1
    assert set(QuarantinedPost.objects.values_list("status", flat=True)) == {
        "released",
        "discarded",
    }


def labelled(page: Page, name: str):
    return page.get_by_label(re.compile(rf"^\s*{re.escape(name)}\s*\*?\s*$"))
