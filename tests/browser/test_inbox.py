"""A rep's inbox in a real browser: the overdue lead is red at the top, the rep accepts it
with the keyboard, a new assignment appears without a reload, and the table is cards on a
phone. Screenshots at desktop size and at 390x844."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from leads.models import Lead, Stage
from portal.accounts.models import User
from portal.demo.services import demo_seed
from portal.notifications.models import Kind
from portal.notifications.services import Notice, notices_send
from scoring.models import Agreement
from tests.browser.session import log_in
from tests.factories import LeadFactory, judged

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

RED = "rgb(220, 53, 69)"  # Bootstrap's danger
AMBER = "rgb(255, 193, 7)"  # Bootstrap's warning


def owned(ana: User, name: str, *, started_min_ago: int, due_in_min: int, stage=Stage.ROUTED):
    first, last = name.split()
    now = timezone.now()
    started, due = now - timedelta(minutes=started_min_ago), now + timedelta(minutes=due_in_min)
    lead = LeadFactory(
        owner=ana,
        stage=stage,
        first_name=first,
        last_name=last,
        email=f"{first}.{last}@prisma.example".lower(),
        company="Prisma Ltda",
        score=30,
        campaign="Spring webinar",
        stage_changed_at=started,
        due_step="accept" if stage == Stage.ROUTED else "contact",
        due_at=due,
        due_soon_at=started + (due - started) / 2,  # reminded half-way, the queues' default
    )
    agreement = Agreement.objects.exclude(activated_at=None).first()  # the demo's
    judged(lead, agreement, {c: c.points for c in agreement.criteria.all()[:3]})
    return lead


def row(page: Page, lead: Lead):
    return page.locator(f'#inbox-table tr[data-lead="{lead.pk}"]')


def test_the_rep_sees_the_overdue_lead_red_at_the_top_and_accepts_it_by_keyboard(
    page: Page, snap, settings
):
    settings.INBOX_POLL_SECONDS = 1
    demo_seed(leads=0)
    ana = User.objects.get(username="rep.ana")
    owned(ana, "Caio Costa", started_min_ago=10, due_in_min=300)
    soon = owned(ana, "Lia Lima", started_min_ago=200, due_in_min=20, stage=Stage.ACCEPTED)
    overdue = owned(ana, "Olga Ortiz", started_min_ago=90, due_in_min=-45)

    log_in(page, "rep.ana")
    page.goto("/leads/")
    expect(page).to_have_title("(2) My inbox · LeadBridge")
    first = page.locator("#inbox-table tbody tr").first
    expect(first).to_have_attribute("data-lead", str(overdue.pk))
    late = first.locator(".time-left .badge")
    expect(late).to_have_text("45 min overdue")
    assert late.evaluate("e => getComputedStyle(e).backgroundColor") == RED
    amber = row(page, soon).locator(".time-left .badge")
    assert amber.evaluate("e => getComputedStyle(e).backgroundColor") == AMBER
    snap("inbox-overdue-first-desktop")

    # The help, then j to the first lead and a to accept it; back in the list afterwards.
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    snap("inbox-keyboard-help")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.keyboard.press("j")
    expect(first).to_have_class(re.compile(r"\blb-selected\b"))
    expect(first.locator("a.lead-link")).to_be_focused()
    page.keyboard.press("a")
    expect(page.get_by_role("status")).to_have_text(f"You accepted {overdue}.")
    expect(page).to_have_url(re.compile(r"/leads/$"))  # the list it was taken from
    overdue.refresh_from_db()
    assert overdue.stage == Stage.ACCEPTED
    assert overdue.events.get().actor == ana
    expect(page).to_have_title("(1) My inbox · LeadBridge")
    snap("inbox-accepted-by-keyboard")

    # A new assignment arrives while the page is open: its row, the title's count and the
    # bell's, no reload.
    page.evaluate("window.lbNotReloaded = true")
    expect(page.locator("#bell-count")).to_have_count(0)
    arrived = owned(ana, "Rui Rocha", started_min_ago=0, due_in_min=30)
    notices_send(  # as routing's assignment tells the rep (leads.audience)
        [Notice(recipient_id=ana.pk, kind=Kind.LEAD_ASSIGNED, title=f"{arrived} was assigned")]
    )
    expect(row(page, arrived)).to_have_count(1, timeout=8000)
    expect(page).to_have_title("(2) My inbox · LeadBridge")
    expect(page.locator("#bell-count")).to_have_text("1 unread")
    assert page.evaluate("window.lbNotReloaded") is True
    snap("inbox-new-assignment-and-bell-without-reload")

    # k then o: up the list and open the lead.
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("o")
    expect(page.locator("#lead-stage")).to_be_visible()

    # On a phone the table is one card per lead, each cell saying its column.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/leads/")
    card = row(page, soon)
    assert card.evaluate("e => getComputedStyle(e).display") == "block"
    assert page.locator("#inbox-table thead").evaluate("e => e.getBoundingClientRect().right < 0")
    expect(card.locator("td[data-label='Time left']")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    snap("inbox-phone-390x844")


def test_every_move_of_the_list_works_with_the_mouse_and_without_javascript(
    browser_page_without_js: Page, artifacts
):
    page = browser_page_without_js
    demo_seed(leads=0)
    ana = User.objects.get(username="rep.ana")
    lead = owned(ana, "Paula Prado", started_min_ago=90, due_in_min=-45)
    log_in(page, "rep.ana")
    page.goto("/leads/")
    expect(page.locator("[data-lb-keys]")).to_be_hidden()  # no keys without JavaScript
    row(page, lead).get_by_role("link", name="Reject…").click()
    page.get_by_label("Why are you rejecting it?").select_option(label="Duplicate")
    page.get_by_role("button", name="Reject lead").click()
    expect(page.get_by_role("status")).to_have_text(
        f"You rejected {lead}; marketing sees your reason."
    )
    page.get_by_role("link", name=re.compile("^Rejected")).click()
    expect(row(page, lead)).to_have_count(1)
    page.screenshot(path=artifacts / "inbox-rejected-tab-without-js.png", full_page=True)
    lead.refresh_from_db()
    assert lead.stage == Stage.REJECTED


@pytest.fixture
def browser_page_without_js(page: Page, live_server) -> Page:
    """The same browser with JavaScript off (a new context: it is a context's setting)."""
    context = page.context.browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def test_a_manager_sees_a_list_past_the_cap_as_n_plus_with_a_line_asking_for_a_filter(
    page: Page, snap, monkeypatch
):
    from leads.inbox import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    demo_seed(leads=0)
    ana = User.objects.get(username="rep.ana")
    for n, name in enumerate(["Caio Costa", "Lia Lima", "Olga Ortiz", "Rui Rocha", "Paula Prado"]):
        owned(ana, name, started_min_ago=10 + n, due_in_min=60 - 20 * n)
    log_in(page, "sales.manager")
    page.goto("/leads/")
    expect(page.locator("#inbox-tabs .active .badge")).to_have_text("3+")
    expect(page.locator("#inbox-capped")).to_have_text(
        "Showing the first 3 — filter to narrow the list"
    )
    expect(page.locator("#inbox-table tbody tr")).to_have_count(3)
    expect(page.locator("#filter-owner option", has_text="Ana")).to_have_count(1)
    expect(page.locator("#filter-queue option", has_text="(")).to_have_count(0)
    expect(page.locator("#inbox-table caption")).to_contain_text(
        "· 3+ routed, waiting to be accepted or rejected"
    )
    snap("inbox-manager-capped-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/leads/")
    expect(page.locator("#inbox-capped")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    snap("inbox-manager-capped-phone-390x844")
