"""Every page each role can reach, at phone size: nothing wider than the screen, the menu opens
and "Log out" is reachable, and axe-core (WCAG 2.1 A/AA) finds no serious or critical
violation. Screenshots of the main pages at 390x844 are saved for a person to look at."""

from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
ROLES = ["marketer", "marketing.manager", "sales.manager", "rep.ana", "admin"]
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# Pages a person reaches from a list, followed once per list; actions and downloads are not pages.
NOT_PAGES = ("/logout/", "/export", ".csv", "/admin/", "/report", "/embed")


def _problems(page: Page, axe: Axe) -> list[str]:
    found = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        found.append(f"{page.url}: {width} px wide at {PHONE['width']} px")
    results = axe.run(page, options=WCAG)
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"][:3]]
            found.append(f"{page.url}: {violation['impact']} {violation['id']} at {targets}")
    return found


def _check_pages_of(page: Page, axe: Axe, username: str, snap) -> list[str]:
    """The menu's pages, then the first page each of them links to from its main table, and
    the pages reached from the bell and the user menu: each loaded once, and checked."""
    problems: list[str] = []

    def check(path: str) -> None:
        nonlocal problems
        page.goto(path)
        problems += _problems(page, axe)
        name = urlsplit(path).path.strip("/").replace("/", "-") or "home"
        if username in ("rep.ana", "marketer") or name == "dashboard":
            snap(f"phone-{username}-{name}")

    menu = [a.get_attribute("href") for a in page.locator("#main-menu a.nav-link").all()]
    menu = list(dict.fromkeys(menu))
    more = []
    for href in menu:
        check(href)
        first = page.locator("main table tbody a[href^='/']").first
        if first.count():
            link = first.get_attribute("href")
            if not any(part in link for part in NOT_PAGES):
                more.append(link)
        if href == "/forms/":
            more += _tokens_link(page)
    if "/forms/" not in menu:
        page.goto("/forms/")
        more += _tokens_link(page)
    # Pages every login reaches from the bell and the user menu, not from the main menu.
    more += ["/notifications/", "/notifications/settings/", "/dashboard/reviews/"]
    for path in dict.fromkeys(more):
        if path not in menu:
            check(path)
    return problems


def _tokens_link(page: Page) -> list[str]:
    """The HubSpot account tokens, linked from the forms list for the marketing manager."""
    tokens = page.locator("#account-tokens-link")
    return [tokens.get_attribute("href")] if tokens.count() else []


def test_every_page_of_every_role_fits_a_phone_and_passes_axe(page: Page, snap):
    demo_seed(leads=24)
    page.set_viewport_size(PHONE)
    axe = Axe()
    problems: list[str] = []

    for path in ("/login/", "/f/talk-to-sales/"):
        page.goto(path)
        problems += _problems(page, axe)
    snap("phone-public-form")

    for username in ROLES:
        log_in(page, username)
        problems += _check_pages_of(page, axe, username, snap)
        menu = page.get_by_role("button", name="Menu", exact=True)
        expect(menu).to_be_visible()
        expect(page.get_by_role("button", name="Log out")).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        snap(f"phone-{username}-menu-open")
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()

    assert not problems, "\n".join(problems)


def test_the_menu_is_a_row_of_links_on_a_desktop(page: Page, snap):
    demo_seed(leads=2)
    log_in(page, "marketing.manager")
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_hidden()
    # One row: the account's links are in a menu behind the user's name, not beside it.
    bar = page.get_by_role("navigation", name="Main").bounding_box()
    assert bar["height"] < 70, bar
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    account = page.get_by_role("button", name="Account menu, Mark Manning")
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    account.click()
    expect(account).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    snap("desktop-account-menu-open")
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    expect(account).to_be_focused()


def test_a_refused_public_post_moves_focus_to_the_list_of_what_to_correct(page: Page):
    demo_seed(leads=0)
    page.goto("/f/talk-to-sales/")
    page.get_by_role("button", name="Send").click()
    summary = page.locator("#form-errors")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
