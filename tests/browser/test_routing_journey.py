"""The sales manager, in Chromium: a weighted queue with a rep's own cap, a rep's holiday, the
simulator, and why a routed lead went where it did, on its page."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from leads.models import Stage
from leads.routing.models import Absence, Queue
from leads.routing.services import lead_route
from portal.demo.services import demo_seed
from tests.browser.session import log_in
from tests.factories import LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_sales_manager_weights_a_queue_sends_a_rep_on_holiday_and_reads_why(
    page: Page, snap, artifacts
):
    demo_seed(leads=0)
    log_in(page, "sales.manager")
    page.get_by_role("link", name="Queues").click()

    # Ana takes twice Bruno's share in Brazil, and may hold 5 open leads whatever the queue's.
    page.get_by_role("row", name=re.compile("Brazil")).get_by_role(
        "link", name="Brazil", exact=True
    ).click()
    page.get_by_label("How reps take turns").select_option("weighted")
    members = page.locator("#members")
    expect(members.get_by_role("row", name=re.compile("Ana Souza"))).to_contain_text("0")
    page.get_by_label("Share of Ana Souza").fill("2")
    page.get_by_label("Open leads Ana Souza may hold").fill("5")
    members.scroll_into_view_if_needed()
    snap("routing-weighted-queue-filled")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved the queue Brazil.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Brazil"))
    expect(row).to_contain_text("Weighted (a share per rep)")
    expect(row).to_contain_text("Ana Souza: 0 open, share 2, own cap 5 open")
    snap("routing-weighted-queue")
    brazil = Queue.objects.get(name="Brazil")
    assert brazil.strategy == "weighted"
    assert brazil.members.get(rep__username="rep.ana").open_cap == 5

    # Bruno goes on holiday from today, for a week.
    page.get_by_role("link", name="Reps: availability and load").click()
    page.get_by_role("link", name="Bruno Lima").click()
    today = timezone.localdate()
    page.get_by_label("Away from").fill(today.isoformat())
    page.get_by_label("Back after").fill((today + datetime.timedelta(days=7)).isoformat())
    page.get_by_label("Note").fill("Holiday")
    page.get_by_role("button", name="Add days away").click()
    expect(page.get_by_text("Added the days away.")).to_be_visible()
    expect(page.locator("#absences")).to_contain_text("Holiday")
    snap("routing-rep-holiday")
    assert Absence.objects.get().rep.username == "rep.bruno"
    page.get_by_role("link", name="Reps", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("Bruno Lima"))).to_contain_text("out of office")
    snap("routing-reps-availability")

    # The simulator: a Brazilian lead would go to Ana, Bruno skipped as out of office.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queues").click()
    page.get_by_role("link", name="Routing simulator").click()
    page.get_by_label("Or type its attributes").fill("country: BR\ncompany_size: 300")
    page.get_by_role("button", name="Try it").click()
    result = page.locator("#simulated")
    expect(result).to_contain_text("To Ana Souza, in Brazil")
    snap("routing-simulator")

    # Real leads routed now: Ana's first is hers by turn; for her second Bruno was next in
    # line (his share behind), so its page says he was passed over as out of office.
    for _ in range(2):
        lead = LeadFactory(stage=Stage.QUALIFIED, attributes={"country": "BR"})
        assert lead_route(lead_id=lead.pk).rep.username == "rep.ana"
    page.goto(f"/leads/{lead.pk}/")
    page.get_by_text("Why this rep").click()
    why = page.locator(".routing-why")
    expect(why).to_contain_text("Queue Brazil took the lead; its reps take turns by weighted")
    expect(why).to_contain_text("Bruno Lima out of office")
    snap("routing-lead-why")

    # On a phone: the queue page's reps stack, each with their load, share and own caps.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/queues/{brazil.pk}/")
    ana = page.locator("#members").get_by_role("row", name=re.compile("Ana Souza"))
    expect(ana).to_be_visible()
    expect(page.get_by_label("Open leads Ana Souza may hold")).to_have_value("5")
    snap("routing-queue-members-phone")
    page.locator("#members").screenshot(path=artifacts / "07b-routing-queue-members-phone.png")
    page.goto(f"/leads/{lead.pk}/")
    page.get_by_text("Why this rep").click()
    expect(page.locator(".routing-why")).to_contain_text("Bruno Lima out of office")
    snap("routing-lead-why-phone")
