"""In Chromium: a marketer brands a form and writes its brief; a visitor sends it twice; the
rep who has the lead sees the brief and the repeat notice; the form's page counts it all."""

import re
import struct
import zlib

import pytest
from playwright.sync_api import Page, expect

from leads.models import Lead, Stage
from portal.demo.services import demo_seed
from tests.browser.session import log_in, log_out

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

FORM_URL = "/f/talk-to-sales/"
EMAIL = "paula.prado@prisma.example"
LOGO = "https://cdn.prisma.example/logo.png"
BRIEF = "Marketplace sellers with 50+ people, ready to onboard this quarter."
QUALIFYING = {
    "Work e-mail": EMAIL,
    "First name": "Paula",
    "Last name": "Prado",
    "Company": "Prisma Ltda",
    "Number of employees": "120",
    "Job title": "Head of Sales",
}


def test_rep_sees_the_brief_and_the_repeat_and_the_form_counts_it(page: Page, snap):
    demo_seed(leads=0)
    # The logo's CDN is not on the network here: the browser gets a small PNG instead.
    page.route(LOGO, lambda route: route.fulfill(content_type="image/png", body=_png()))

    log_in(page, "marketer")
    page.goto("/forms/")
    page.get_by_role("link", name="Talk to sales").click()
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Campaign brief").fill(BRIEF)
    page.get_by_label("Logo URL").fill(LOGO)
    page.get_by_label("Accent colour").fill("#7b1fa2")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#brand-accent")).to_contain_text("#7b1fa2")
    _log_out(page)

    page.goto(FORM_URL)
    expect(page.locator("#form-logo")).to_be_visible()
    button = page.get_by_role("button", name="Send")
    expect(button).to_have_css("background-color", "rgb(123, 31, 162)")
    snap("branded-form")
    send(page, QUALIFYING)
    expect(page.get_by_role("status")).to_have_text("Thank you! We will be in touch shortly.")
    snap("branded-thanks")

    lead = Lead.objects.select_related("owner").get(email=EMAIL)
    assert lead.stage == Stage.ROUTED
    rep = lead.owner

    page.goto(FORM_URL)
    send(page, {**QUALIFYING, "Job title": "VP Sales"})
    expect(page).to_have_url(re.compile(r"/thanks/$"))

    log_in(page, rep.username)
    row = page.get_by_role("row").filter(has_text="Paula Prado")
    expect(row.locator(".submitted-again")).to_have_text("Submitted again")
    snap("rep-inbox-marker")
    page.get_by_role("link", name="Paula Prado").click()
    notice = page.locator("#repeat-notice")
    expect(notice).to_contain_text("Submitted again on")
    expect(notice).to_contain_text("via Talk to sales v1")
    expect(page.locator("#campaign-brief")).to_contain_text(BRIEF)
    expect(page.locator("#lead-origin")).to_contain_text("Came through Talk to sales v1")
    snap("rep-lead-notice-and-brief")
    notice.get_by_role("button", name="Mark as seen").click()
    expect(page.locator("#repeat-notice")).to_have_count(0)
    page.get_by_role("link", name="My inbox").first.click()
    expect(page.locator(".submitted-again")).to_have_count(0)
    _log_out(page)

    log_in(page, "marketer")
    page.goto("/forms/")
    page.get_by_role("link", name="Talk to sales").click()
    # Two views of the hosted page (the thank-you page is not one), two submissions by
    # one lead, who qualified and was routed but not accepted yet.
    expect(stat(page, "views")).to_have_text("2")
    expect(stat(page, "submissions")).to_have_text("2")
    expect(stat(page, "conversion")).to_have_text("100.0 %")
    expect(stat(page, "leads")).to_have_text("1")
    expect(stat(page, "qualified")).to_have_text("1")
    expect(stat(page, "accepted")).to_have_text("0")
    snap("form-stats")


def send(page: Page, values: dict[str, str]) -> None:
    for label, value in values.items():
        page.get_by_label(label).fill(value)
    page.get_by_label("Country").select_option("Brazil")
    page.get_by_label("I agree to be contacted").check()
    page.get_by_role("button", name="Send").click()


def stat(page: Page, name: str):
    return page.locator(f'[data-stat="{name}"]')


def _log_out(page: Page) -> None:
    page.goto("/leads/")
    log_out(page)


def _png(size: int = 48) -> bytes:
    """A purple square: enough PNG to show where the logo goes."""
    row = b"\x00" + bytes([123, 31, 162]) * size
    raw = zlib.compress(row * size)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
