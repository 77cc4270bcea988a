"""Signing in as a demo user, the same way in every browser test."""

from playwright.sync_api import Page, expect

from portal.demo.services import DEMO_PASSWORD


def log_in(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # At phone size the menu, and "Log out" in it, is collapsed: the signed-in name is there.
    expect(page.locator("#signed-in-as")).to_have_count(1)
