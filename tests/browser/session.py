"""Signing in as a demo user, the same way in every browser test."""

import re

from playwright.sync_api import Page, expect

from portal.demo.services import DEMO_PASSWORD


def log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # At phone size the menu, and "Log out" in it, is collapsed: the signed-in name is there.
    expect(page.locator("#signed-in-as")).to_have_count(1)


def open_account_menu(page: Page) -> None:
    """On a desktop the account's links (profile, notification preferences, log out) are in
    the menu behind the user's name; on a phone they are in the folded main menu."""
    account = page.get_by_role("button", name=re.compile(r"^Account menu"))
    if account.is_visible() and account.get_attribute("aria-expanded") != "true":
        account.click()


def log_out(page: Page) -> None:
    open_account_menu(page)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
