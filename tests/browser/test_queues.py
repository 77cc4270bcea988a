"""A sales manager sets up a queue in Chromium, without the Django admin, and a lead follows it."""

import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Stage
from leads.routing.models import Queue
from leads.routing.services import lead_route
from portal.accounts.models import User
from portal.demo.services import demo_seed
from tests.browser.session import log_in
from tests.factories import LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_sales_manager_creates_a_queue_and_changes_its_reps(page: Page, snap):
    demo_seed(leads=0)
    log_in(page, "sales.manager")
    page.get_by_role("link", name="Queues").click()
    expect(page.get_by_role("heading", name="Sales queues")).to_be_visible()
    expect(page.get_by_role("cell", name="country is one of Brazil")).to_be_visible()
    snap("queues-list")

    page.get_by_role("link", name="New queue").click()
    page.get_by_label("Name").fill("Portugal")
    page.get_by_label("Priority").fill("5")
    page.get_by_label("Condition 1: lead attribute").fill("country")
    page.get_by_label("Condition 1: value").fill("Portugal")
    page.get_by_label("Open leads per rep").fill("3")
    page.get_by_role("checkbox", name="Carla Reyes", exact=True).check()
    page.get_by_role("checkbox", name="Dan Walker", exact=True).check()
    snap("queues-new-filled")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved the queue Portugal.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Portugal"))
    expect(row).to_contain_text("Carla Reyes: 0 open, Dan Walker: 0 open")
    expect(row).to_contain_text("Active")
    snap("queues-created")

    lead = LeadFactory(stage=Stage.QUALIFIED, attributes={"country": "Portugal"})
    assert lead_route(lead_id=lead.pk).rep.username == "rep.carla"

    # Carla leaves the queue; Dan stays in his place and Ana joins after him.
    row.get_by_role("link", name="Portugal", exact=True).click()
    expect(page.get_by_label("Condition 1: value")).to_have_value("Portugal")
    page.get_by_role("checkbox", name="Carla Reyes", exact=True).uncheck()
    page.get_by_role("checkbox", name="Ana Souza", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("row", name=re.compile("Portugal"))).to_contain_text(
        "Dan Walker: 0 open, Ana Souza: 0 open"
    )
    snap("queues-reps-changed")
    queue = Queue.objects.get(name="Portugal")
    assert [m.rep.username for m in queue.members.order_by("position")] == ["rep.dan", "rep.ana"]

    # Dan's account is deactivated: the queue says so, and a save keeps him for his return.
    User.objects.filter(username="rep.dan").update(is_active=False)
    page.reload()
    row = page.get_by_role("row", name=re.compile("Portugal"))
    expect(row).to_contain_text("Dan Walker (account deactivated): 0 open, Ana Souza")
    row.get_by_role("link", name="Portugal", exact=True).click()
    dan = page.get_by_role(
        "checkbox", name="Dan Walker (account deactivated: gets no leads while it is)"
    )
    expect(dan).to_be_checked()
    page.get_by_label("Open leads per rep").fill("4")
    snap("queues-deactivated-member")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved the queue Portugal.")).to_be_visible()
    assert [m.rep.username for m in queue.members.order_by("position")] == ["rep.dan", "rep.ana"]

    # A rule without values is refused on the page, naming the field.
    page.get_by_role("link", name="New queue").click()
    page.get_by_label("Name").fill("Chile")
    page.get_by_label("Condition 1: lead attribute").fill("country")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("“country is one of” needs a list")).to_be_visible()
    snap("queues-rule-without-values-refused")
    assert not Queue.objects.filter(name="Chile").exists()
