"""The shared dashboard in a real browser: a manager filters it, the funnel on the page equals
its CSV export, a rep sees the same numbers, and it fits a phone. Screenshots are saved."""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}


def _funnel_on_page(page: Page) -> list[list[str]]:
    rows = page.locator('table[data-panel="funnel"] tbody tr')
    return [
        [cell.inner_text().strip() for cell in row.locator("th, td").all()] for row in rows.all()
    ]


def _funnel_csv(page: Page) -> list[list[str]]:
    href = page.locator("#panel-funnel a", has_text="CSV").get_attribute("href")
    response = page.request.get(href)
    assert response.ok
    rows = list(csv.reader(io.StringIO(response.text())))[1:]
    return [[cell or "—" for cell in row] for row in rows]


def test_manager_filters_the_dashboard_and_the_page_equals_the_csv(page: Page, snap, artifacts):
    demo_seed(leads=40)
    log_in(page, "sales.manager")
    page.goto("/dashboard/")
    snap("dashboard-desktop")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.get_by_role("link", name="All time").click()
    page.get_by_label("Form", exact=True).select_option(index=1)
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"form=\d+"))
    snap("dashboard-filtered")
    on_page = _funnel_on_page(page)
    assert on_page[0][0] == "Captured" and int(on_page[0][1]) > 0
    assert on_page == _funnel_csv(page)
    filtered_url = page.url

    page.set_viewport_size(PHONE)
    page.goto(filtered_url)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    snap("dashboard-phone")
    for section in ("funnel", "speed", "quality"):
        page.locator(f"#{section}-title").scroll_into_view_if_needed()
        page.evaluate(f"document.getElementById('{section}-title').scrollIntoView()")
        page.screenshot(path=artifacts / f"dashboard-phone-{section}.png")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.context.clear_cookies()
    log_in(page, "rep.ana")
    page.goto(filtered_url)
    assert _funnel_on_page(page) == on_page
    snap("dashboard-as-rep")


def test_a_marketing_manager_notes_a_review_that_fits_a_phone_and_passes_axe(page: Page, snap):
    from axe_playwright_python.sync_playwright import Axe

    from portal.dashboard.services import review_freeze

    demo_seed(leads=30)
    review = review_freeze()
    log_in(page, "marketing.manager")
    page.goto("/dashboard/")
    page.get_by_role("link", name="Handoff reviews").click()
    page.get_by_role("link", name=str(review)).click()
    page.get_by_label("Edit the marketing notes").fill("Webinar leads fail the size rule.")
    page.get_by_role("button", name="Save the marketing notes").click()
    expect(page.get_by_role("status")).to_have_text("The marketing notes are saved.")
    expect(page.locator(".review-notes")).to_have_text("Webinar leads fail the size rule.")
    expect(page.get_by_label("Edit the sales notes")).to_have_count(0)
    # The agreement's side of the meeting, frozen with it, and a draft one click away.
    for panel in ("flags", "effectiveness", "threshold", "proposals"):
        expect(page.locator(f'table[data-panel="{panel}"]')).to_have_count(1)
    expect(page.locator('table[data-panel="funnel"]')).to_be_visible()
    snap("review-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}})
    serious = [
        v["id"] for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not serious
    snap("review-phone")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name=re.compile(r"Propose a change to v\d+")).first.click()
    expect(page).to_have_url(re.compile(r"/agreement/v\d+/edit/$"))
    snap("review-propose-a-change-draft")


def test_the_printable_view_shows_every_panel_and_the_filters_on_paper(page: Page, snap, artifacts):
    demo_seed(leads=30)
    log_in(page, "marketer")
    page.goto("/dashboard/?period=all")
    on_screen = _funnel_on_page(page)
    page.get_by_role("link", name="Printable view").click()
    expect(page.locator("#print-filters")).to_contain_text("Period: All time")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    assert _funnel_on_page(page) == on_screen
    page.emulate_media(media="print")
    snap("dashboard-print")
    page.pdf(path=artifacts / "dashboard-print.pdf", format="A4")
