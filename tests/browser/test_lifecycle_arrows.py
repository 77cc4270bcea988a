"""Every arrow of the lifecycle clicked in a real browser, by the person allowed to take it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from leads.inbox.services import lead_accept, lead_contact, lead_convert
from leads.models import ContactChannel, Lead, LeadEvent, LostReason, Stage
from leads.routing.models import Assignment, QueueMember
from leads.routing.services import lead_route
from portal.accounts.models import User
from portal.demo.services import demo_seed
from tests.browser.session import log_in, log_out
from tests.factories import LeadFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def routed_to_ana(first: str, last: str) -> Lead:
    """A Brazilian lead the Brazil queue gives to Ana, with its routing in the history."""
    lead = LeadFactory(
        email=f"{first}.{last}@prisma.example".lower(),
        first_name=first,
        last_name=last,
        company="Prisma Ltda",
        stage=Stage.QUALIFIED,
        attributes={"country": "BR", "company_size": 120},
    )
    lead_route(lead_id=lead.pk)
    lead.refresh_from_db()
    assert lead.owner.username == "rep.ana"
    return lead


@pytest.fixture
def people():
    demo_seed(leads=0)
    # Round robin would give every other lead to Bruno; these are all Ana's.
    QueueMember.objects.filter(rep__username="rep.bruno").update(is_active=False)
    return {user.username: user for user in User.objects.all()}


def test_every_arrow_is_taken_on_the_lead_page_by_whoever_may_take_it(page: Page, snap, people):
    ana = people["rep.ana"]
    won = routed_to_ana("Paula", "Prado")
    rerouted = routed_to_ana("Rui", "Rocha")
    nurtured_by_manager = routed_to_ana("Lia", "Lima")
    nurtured_by_rep = routed_to_ana("Caio", "Costa")
    lost = routed_to_ana("Olga", "Ortiz")
    raced = routed_to_ana("Rita", "Reis")
    lead_accept(lead=lost, by=ana)
    lead_contact(lead=lost, by=ana, channel=ContactChannel.MEETING)
    lead_convert(lead=lost, by=ana)
    QueueMember.objects.update(is_active=True)

    log_in(page, "rep.ana")

    # routed → accepted → contacted (a call, then an e-mail) → opportunity → won
    open_lead(page, won)
    expect(stage(page)).to_have_text("Routed")
    expect_moves(page, ["Accept", "Reject…"])
    snap("arrows-routed")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(stage(page)).to_have_text("Accepted")
    expect(page.get_by_role("status")).to_have_text(f"You accepted {won}.")
    expect_moves(page, ["Log first contact", "Mark lost…", "Back to nurture"])
    snap("arrows-accepted")
    unfold(page, "Log first contact")
    page.get_by_label("Call", exact=True).check()
    page.get_by_label("What came of it").fill("Spoke to Paula; she wants a demo.")
    snap("arrows-logging-a-call")
    page.get_by_role("button", name="Log contact").click()
    expect(stage(page)).to_have_text("Contacted")
    expect(last_event(page)).to_contain_text("Accepted → Contacted by Ana Souza")
    expect(last_event(page)).to_contain_text("Channel: Call")
    unfold(page, "Log a contact")
    page.get_by_label("E-mail", exact=True).check()
    page.get_by_role("button", name="Log contact").click()
    expect(page.get_by_role("status")).to_have_text(f"Logged: e-mail with {won}.")
    expect(stage(page)).to_have_text("Contacted")
    expect(last_event(page)).to_contain_text("E-mail logged by Ana Souza")
    snap("arrows-contacted")
    unfold(page, "Convert to opportunity")
    page.get_by_label("What makes it an opportunity").fill("Budget approved for Q1.")
    page.get_by_role("button", name="Convert to opportunity").click()
    expect(stage(page)).to_have_text("Opportunity (SQL)")
    expect_moves(page, ["Mark won…", "Mark lost…", "Log a contact", "Back to nurture"])
    snap("arrows-opportunity")
    page.get_by_role("link", name="Mark won…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mark Paula Prado as won?")
    snap("arrows-confirm-won")
    page.get_by_role("button", name="Yes, mark won").click()
    expect(stage(page)).to_have_text("Won")
    expect(page.locator("#moves")).to_have_text("This lead is won: it does not move again.")
    note_field(page).fill("Referred us to two other sellers.")
    page.get_by_role("button", name="Add note").click()
    expect(last_event(page)).to_contain_text("Note by Ana Souza")
    expect(last_event(page)).to_contain_text("Referred us to two other sellers.")
    snap("arrows-won-with-a-note")
    assert [e.to_stage for e in won.events.filter(actor=ana)] == [
        Stage.ACCEPTED,
        Stage.CONTACTED,
        "",
        Stage.OPPORTUNITY,
        Stage.WON,
        "",
    ]

    # routed → rejected, twice; the reason is asked on a page of its own
    for lead, reason in [
        (rerouted, "Wrong territory"),
        (nurtured_by_manager, "No budget"),
    ]:
        open_lead(page, lead)
        page.get_by_role("link", name="Reject…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Reject {lead.name}?")
        if lead == rerouted:
            assert send(page, "Reject lead") == 400
            expect(page.get_by_label("Why are you rejecting it?")).to_have_accessible_description(
                re.compile("This field is required.")
            )
            snap("arrows-reject-without-a-reason")
        page.get_by_label("Why are you rejecting it?").select_option(label=reason)
        page.get_by_role("button", name="Reject lead").click()
        expect(page).to_have_url(re.compile(r"/leads/$"))
        expect(page.get_by_role("status")).to_have_text(
            f"You rejected {lead}; marketing sees your reason."
        )
    snap("arrows-inbox-after-rejecting")

    # accepted → recycled, with a day to come back; today is refused
    open_lead(page, nurtured_by_rep)
    page.get_by_role("button", name="Accept", exact=True).click()
    unfold(page, "Back to nurture")
    page.get_by_label("Back to sales on").fill(timezone.localdate().isoformat())
    assert send(page, "Send to nurture") == 400
    expect(page.get_by_label("Back to sales on")).to_have_accessible_description(
        re.compile("Choose a day after today")
    )
    snap("arrows-recycle-today-refused")
    back_on = timezone.localdate() + timedelta(days=45)
    page.get_by_label("Back to sales on").fill(back_on.isoformat())
    page.get_by_label("Why not now").fill("Their budget opens in the new year.")
    page.get_by_role("button", name="Send to nurture").click()
    expect(stage(page)).to_have_text("Recycled (nurture)")
    shown = f"{back_on:%b} {back_on.day}, {back_on.year}"
    expect(page.locator("#nurture-until")).to_have_text(f"In nurture until {shown}")
    expect(last_event(page)).to_contain_text(f"In nurture until {shown}")
    snap("arrows-recycled-by-the-rep")

    # opportunity → lost, with a reason; "other" needs a note
    open_lead(page, lost)
    page.get_by_role("link", name="Mark lost…").click()
    page.get_by_label("Why was it lost?").select_option(label="Other")
    assert send(page, "Yes, mark lost") == 400
    expect(page.get_by_label("Note")).to_have_accessible_description(
        re.compile("Say what the other reason is.")
    )
    snap("arrows-lost-other-needs-a-note")
    page.get_by_label("Why was it lost?").select_option(label="Chose a competitor")
    page.get_by_role("button", name="Yes, mark lost").click()
    expect(stage(page)).to_have_text("Lost")
    expect(last_event(page)).to_contain_text("Opportunity (SQL) → Lost by Ana Souza")
    expect(last_event(page)).to_contain_text("Reason: Chose a competitor")
    snap("arrows-lost")
    assert lost.events.get(to_stage=Stage.LOST).reason_code == LostReason.COMPETITOR

    # Two tabs: the reject page was open when the other tab accepted.
    open_lead(page, raced)
    page.get_by_role("link", name="Reject…").click()
    page.get_by_label("Why are you rejecting it?").select_option(label="Duplicate")
    other_tab = page.context.new_page()
    other_tab.goto(raced.get_absolute_url())
    other_tab.get_by_role("button", name="Accept", exact=True).click()
    expect(other_tab.locator("#lead-stage")).to_have_text("Accepted")
    other_tab.close()
    assert send(page, "Reject lead") == 409
    expect(page.get_by_role("alert")).to_have_text(
        f"{raced} is accepted: it cannot become rejected. Nothing changed."
    )
    expect(stage(page)).to_have_text("Accepted")
    snap("arrows-lost-race-409")
    assert raced.events.filter(kind=LeadEvent.Kind.STAGE_CHANGED, actor=ana).count() == 1

    log_out(page)
    log_in(page, "sales.manager")

    # rejected → routed: the manager re-routes to another rep
    open_lead(page, rerouted)
    expect_moves(page, ["Back to nurture", "Re-route to a rep"])
    unfold(page, "Re-route to a rep")
    page.get_by_label("Give it to").select_option(label="Bruno Lima")
    page.get_by_label("Why does it change hands?").fill("Bruno covers the north-east.")
    snap("arrows-manager-re-routes")
    page.get_by_role("button", name="Re-route to a rep").click()
    expect(stage(page)).to_have_text("Routed")
    expect(page.locator("#lead-owner")).to_have_text("Bruno Lima")
    expect(page.get_by_role("status")).to_have_text(f"{rerouted} now belongs to Bruno Lima.")
    expect(page.locator(".timeline > li").nth(-2)).to_contain_text(
        "Rejected → Routed by Sara Salles"
    )
    expect(last_event(page)).to_contain_text(
        "Reassigned from Ana Souza to Bruno Lima by Sara Salles"
    )
    expect_moves(page, ["Reassign"])  # the rep's moves are the rep's
    snap("arrows-re-routed")
    assert Assignment.objects.filter(lead=rerouted).latest("pk").assigned_by.username == (
        "sales.manager"
    )

    # rejected → recycled, by the manager
    open_lead(page, nurtured_by_manager)
    unfold(page, "Back to nurture")
    page.get_by_label("Back to sales on").fill((back_on + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Send to nurture").click()
    expect(stage(page)).to_have_text("Recycled (nurture)")
    expect(last_event(page)).to_contain_text("Rejected → Recycled (nurture) by Sara Salles")
    snap("arrows-recycled-by-the-manager")

    # A note from the manager on a closed deal.
    open_lead(page, won)
    note_field(page).fill("Great work: use this one as a case study.")
    page.get_by_role("button", name="Add note").click()
    expect(last_event(page)).to_contain_text("Note by Sara Salles")
    snap("arrows-manager-notes-a-won-lead")

    log_out(page)
    log_in(page, "rep.bruno")
    page.get_by_role("link", name="Rui Rocha").click()
    expect(stage(page)).to_have_text("Routed")
    page.get_by_role("button", name="Accept", exact=True).click()
    expect(stage(page)).to_have_text("Accepted")
    snap("arrows-re-routed-lead-accepted-by-bruno")
    assert page.goto(won.get_absolute_url()).status == 404


def open_lead(page: Page, lead: Lead) -> None:
    page.goto(lead.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(lead.name)


def stage(page: Page):
    return page.locator("#lead-stage")


def last_event(page: Page):
    return page.locator(".timeline > li").last


def expect_moves(page: Page, labels: list[str]) -> None:
    """The "Next steps" offer exactly these, in any order."""
    moves = page.locator("#moves")
    offered = moves.locator(".move a, .move button, details > summary").all_inner_texts()
    assert sorted(offered) == sorted(labels)


def note_field(page: Page):
    return page.locator("#note-form").get_by_role("textbox")


def unfold(page: Page, move: str) -> None:
    """Open the folded form of a move (a <details>), as a person clicks its summary."""
    page.locator("summary", has_text=move).click()


def send(page: Page, button: str) -> int:
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    return posted.value.status
