"""Service levels in Chromium: a sales manager gives a queue its own working hours (a bad time
zone refused on its field first), and reads the service levels met by queue and by rep on the
dashboard, whose table equals its CSV. Screenshots are saved."""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from leads.models import Lead
from leads.routing.models import Queue
from portal.demo.services import demo_seed
from tests.browser.session import log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}


def _rows(page: Page, panel: str) -> list[list[str]]:
    rows = page.locator(f'table[data-panel="{panel}"] tbody tr')
    return [[cell.inner_text().strip() for cell in r.locator("th, td").all()] for r in rows.all()]


def _csv(page: Page, panel: str) -> list[list[str]]:
    href = page.locator(f"#panel-{panel} a", has_text="CSV").get_attribute("href")
    response = page.request.get(href)
    assert response.ok
    return [[cell or "—" for cell in row] for row in csv.reader(io.StringIO(response.text()))][1:]


def test_a_manager_sets_a_queues_hours_and_reads_the_service_levels_met(
    page: Page, snap, artifacts
):
    demo_seed(leads=40)
    queue = Queue.objects.order_by("priority", "name").first()
    log_in(page, "sales.manager")
    page.goto(f"/queues/{queue.pk}/")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        page.get_by_label(day, exact=True).check()
    page.get_by_label("Opens at").fill("08:00")
    page.get_by_label("Closes at").fill("16:00")
    page.get_by_label("The queue's time zone").fill("America/Sao Paulo")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("is not a time zone")).to_be_visible()
    snap("queue-hours-refused")

    page.get_by_label("The queue's time zone").fill("America/Sao_Paulo")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Saved the queue {queue.name}.")).to_be_visible()
    queue.refresh_from_db()
    assert queue.time_zone == "America/Sao_Paulo" and queue.business_days == [0, 1, 2, 3, 4]

    page.goto("/dashboard/")
    page.get_by_role("link", name="All time").click()
    page.locator("#service-title").scroll_into_view_if_needed()
    by_queue = _rows(page, "compliance-queue")
    assert by_queue and by_queue == _csv(page, "compliance-queue")
    assert _rows(page, "compliance-rep") == _csv(page, "compliance-rep")
    judged = Lead.objects.filter(accept_due_at__isnull=False).count()
    assert sum(int(row[1]) for row in by_queue) <= judged
    expect(page.locator('svg[data-chart="compliance"]')).to_be_visible()
    snap("dashboard-service-levels")
    section = page.locator('section[aria-labelledby="service-title"]')
    section.screenshot(path=artifacts / "service-levels-desktop.png")

    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    section.screenshot(path=artifacts / "service-levels-phone.png")
    expect(page).to_have_url(re.compile(r"period=all"))


def test_a_manager_watches_the_due_times_counted_again_after_changing_a_queues_hours(
    page: Page, snap
):
    from scoring.clocks import clocks_recount_batch, clocks_recount_run_create
    from scoring.tasks import recount_clocks

    demo_seed(leads=40)
    queue = Queue.objects.order_by("priority", "name").first()
    log_in(page, "sales.manager")
    page.goto(f"/queues/{queue.pk}/")
    page.get_by_label("Opens at").fill("07:00")
    page.get_by_label("Closes at").fill("15:00")
    page.get_by_label("The queue's time zone").fill("Europe/Lisbon")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        page.get_by_label(day, exact=True).check()
    page.get_by_role("button", name="Save").click()
    told = page.get_by_text("The due times of its open leads are being counted again")
    expect(told).to_be_visible()
    page.get_by_role("link", name="see the progress").click()
    bar = page.locator("#clocks-progress")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#clocks-heading")).to_contain_text(f"queue {queue.name} changed")
    snap("clocks-recount-done")

    # A recount under way: the bar moves without a reload (polled), to the end.
    run = clocks_recount_run_create(why="a test of the progress bar")
    assert run.total > 1
    clocks_recount_batch(run_id=run.pk, size=1)
    page.goto("/agreement/")
    expect(bar).to_have_attribute("data-running", "1")
    expect(page.locator("#clocks-words")).to_contain_text(f"1 of {run.total} open leads")
    snap("clocks-recount-running")
    recount_clocks(run.pk)
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=10_000)
    expect(page.locator("#clocks-words")).to_contain_text(
        f"Done: the due times of {run.total} open leads counted again."
    )
    snap("clocks-recount-polled")
