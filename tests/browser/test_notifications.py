"""A rep's bell: the count of what is new on every page, the list, mark all read, and the
e-mail settings reached from the user menu, at desktop and at phone size."""

import pytest
from playwright.sync_api import Page, expect

from leads.models import Stage
from leads.routing.services import lead_reassign
from portal.accounts.models import User
from portal.demo.services import demo_seed
from portal.notifications.models import Delivery, Kind
from tests.browser.session import log_in
from tests.factories import LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_rep_sees_the_bell_count_reads_the_list_and_marks_all_read(page: Page, snap):
    demo_seed(leads=0)
    ana, carla = User.objects.get(username="rep.ana"), User.objects.get(username="rep.carla")
    manager = User.objects.get(username="sales.manager")
    for first_name in ("Bruno", "Clara"):
        lead = LeadFactory(stage=Stage.ROUTED, owner=carla, first_name=first_name)
        lead_reassign(lead=lead, to_rep=ana, by=manager, reason="Carla is on holiday")

    log_in(page, "rep.ana")
    bell = page.locator("#bell")
    expect(page.locator("#bell-count")).to_have_text("2 unread")
    expect(bell).to_have_accessible_name("Notifications 2 unread")
    snap("notifications-bell")

    bell.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.locator("#notifications > li")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Clara (Acme) was reassigned to you")
    expect(items.first).to_contain_text("Carla is on holiday")
    snap("notifications-list")

    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("2 notifications marked read.")).to_be_visible()
    expect(page.locator("#bell-count")).to_have_count(0)
    expect(page.locator(".notification-unread")).to_have_count(0)
    page.get_by_role("link", name="Unread").click()
    expect(page.locator("#no-notifications")).to_contain_text("Nothing unread.")
    snap("notifications-all-read")

    # On a phone the menu folds away, the bell does not; the settings are in the menu.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/leads/")
    expect(bell).to_be_visible()
    expect(page.get_by_role("link", name="Notification preferences")).to_be_hidden()
    snap("notifications-phone")
    page.get_by_role("button", name="Menu", exact=True).click()
    page.get_by_role("link", name="Notification preferences").click()
    expect(page.get_by_role("heading", name="Notification preferences")).to_be_visible()
    row = page.get_by_role("row", name="A lead was reassigned to you")
    row.get_by_role("radio", name="No e-mail").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your notification preferences are saved.")).to_be_visible()
    snap("notifications-settings-phone")
    assert dict(ana.notification_preferences.values_list("kind", "delivery")) == {
        Kind.LEAD_REASSIGNED: Delivery.OFF
    }
