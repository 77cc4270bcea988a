"""Each move's endpoint: as the person who may take it, as people who may not, and with bad
input. The table of who is offered what in which stage is in test_lead_page.py."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.inbox.actions import ACTIONS
from leads.inbox.services import lead_accept
from leads.models import LeadEvent, LostReason, Stage
from leads.routing.models import Assignment
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = LeadEvent.Kind


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Souza")


@pytest.fixture
def manager():
    return UserFactory(role=Role.SALES_MANAGER)


def url(name, lead):
    return reverse(f"inbox:{name}", args=[lead.pk])


def lead_of(rep, stage):
    return LeadFactory(stage=stage, owner=rep)


def messages_on(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize("name", sorted(set(ACTIONS) - {"reassign"}))
def test_another_reps_lead_does_not_exist_for_any_of_a_reps_moves(client, rep, name):
    lead = lead_of(rep, Stage.ROUTED)
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.get(url(name, lead)).status_code == 404
    assert client.post(url(name, lead), {"note-text": "x"}).status_code == 404
    assert not lead.events.exists()


@pytest.mark.parametrize("name", ACTIONS)
def test_a_user_whose_role_has_no_part_in_leads_is_refused_every_move(client, rep, name):
    lead = lead_of(rep, Stage.ROUTED)
    client.force_login(UserFactory())
    assert client.post(url(name, lead), {"note-text": "x"}).status_code == 403
    assert not lead.events.exists()


def test_a_rep_is_refused_reassigning_even_a_lead_they_cannot_see(client, rep):
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.post(url("reassign", lead_of(rep, Stage.ROUTED))).status_code == 403


@pytest.mark.parametrize("name", ACTIONS)
def test_an_anonymous_visitor_is_sent_to_log_in_for_any_move(client, rep, name):
    response = client.post(url(name, lead_of(rep, Stage.ROUTED)))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["accept", "reject", "contact", "convert", "win", "lose"])
def test_a_manager_sees_the_lead_but_its_reps_moves_are_forbidden(client, rep, manager, name):
    lead = lead_of(rep, Stage.OPPORTUNITY)
    client.force_login(manager)
    assert client.post(url(name, lead)).status_code == 403


@pytest.mark.parametrize("name", ["inbox:reject", "inbox:win", "inbox:lose"])
def test_final_and_sending_away_moves_are_confirmed_on_a_page_first(client, rep, name):
    stage = Stage.ROUTED if name == "inbox:reject" else Stage.OPPORTUNITY
    lead = lead_of(rep, stage)
    client.force_login(rep)
    page = client.get(reverse(name, args=[lead.pk]))
    assert page.status_code == 200
    assert page.context["question"].endswith("?")
    assert not lead.events.exists()


def test_the_confirmation_page_says_when_a_move_is_final(client, rep):
    lead = lead_of(rep, Stage.OPPORTUNITY)
    client.force_login(rep)
    assert b"This is final" in client.get(url("win", lead)).content
    assert b"This is final" not in client.get(url("reject", lead_of(rep, Stage.ROUTED))).content


@pytest.mark.parametrize(
    ("name", "stage", "who"),
    [
        ("accept", Stage.ROUTED, "rep"),
        ("contact", Stage.ACCEPTED, "rep"),
        ("contact", Stage.ROUTED, "rep"),
        ("convert", Stage.CONTACTED, "rep"),
        ("recycle", Stage.ACCEPTED, "rep"),
        ("note", Stage.WON, "rep"),
        ("reassign", Stage.ACCEPTED, "manager"),
    ],
)
def test_moves_asked_on_the_lead_page_itself_need_a_post(client, rep, manager, name, stage, who):
    lead = lead_of(rep, stage)
    client.force_login(rep if who == "rep" else manager)
    assert client.get(url(name, lead)).status_code == 405


def test_a_confirmation_page_for_a_lead_that_has_moved_on_says_so(client, rep):
    lead = lead_of(rep, Stage.WON)
    client.force_login(rep)
    response = client.get(url("lose", lead), follow=True)
    assert response.redirect_chain == [(lead.get_absolute_url(), 302)]
    assert messages_on(response) == [f"{lead} is won: it cannot become lost. Nothing changed."]


def test_rep_logs_a_call_and_reads_it_back(client, rep):
    lead = lead_of(rep, Stage.ACCEPTED)
    client.force_login(rep)
    response = client.post(
        url("contact", lead), {"contact-channel": "call", "contact-note": "Left a message."}
    )
    assert response["Location"] == lead.get_absolute_url()
    page = client.get(response["Location"])
    assert messages_on(page) == [f"Logged: call with {lead}."]
    assert page.context["lead"].stage == Stage.CONTACTED


def test_a_contact_without_a_channel_is_sent_back_to_the_lead_page_open(client, rep):
    lead = lead_of(rep, Stage.ACCEPTED)
    client.force_login(rep)
    response = client.post(url("contact", lead), {"contact-note": "Nice chat."})
    assert response.status_code == 400
    contact = next(p for p in response.context["moves"] if p.action.name == "contact")
    assert contact.open
    assert contact.form.errors == {"channel": ["This field is required."]}
    html = response.content.decode()
    assert '<details class="move-form border rounded mt-3" open id="contact-move">' in html
    assert "Nice chat." in html  # what was typed is not lost
    assert not lead.events.exists()


def test_rep_converts_and_then_wins_after_confirming(client, rep):
    lead = lead_of(rep, Stage.CONTACTED)
    client.force_login(rep)
    converted = client.post(url("convert", lead), {"convert-note": "Budget."}, follow=True)
    assert messages_on(converted) == [f"{lead} is now an opportunity."]
    response = client.post(url("win", lead), {"win-note": "Signed."}, follow=True)
    assert messages_on(response) == [f"Won: {lead}. Well done."]
    assert [e.to_stage for e in lead.events.all()] == [Stage.OPPORTUNITY, Stage.WON]


def test_a_lost_deal_needs_a_reason_from_the_list(client, rep):
    lead = lead_of(rep, Stage.OPPORTUNITY)
    client.force_login(rep)
    missing = client.post(url("lose", lead), {"lose-reason": ""})
    assert missing.status_code == 400
    assert missing.templates[0].name == "inbox/confirm.html"
    assert missing.context["panel"].form.errors == {"reason": ["This field is required."]}
    other = client.post(url("lose", lead), {"lose-reason": "other"})
    assert other.context["panel"].form.errors == {"note": ["Say what the other reason is."]}
    assert not lead.events.exists()
    client.post(url("lose", lead), {"lose-reason": LostReason.TIMING})
    assert lead.events.get().reason_code == LostReason.TIMING


@pytest.mark.parametrize(
    ("until", "error"),
    [
        ("", "This field is required."),
        ("31/12/2030", "Enter a valid date."),
        (timezone.localdate().isoformat(), "Choose a day after today for the lead to come back."),
    ],
)
def test_recycling_needs_a_day_after_today(client, rep, until, error):
    lead = lead_of(rep, Stage.ACCEPTED)
    client.force_login(rep)
    response = client.post(url("recycle", lead), {"recycle-until": until})
    assert response.status_code == 400
    recycle = next(p for p in response.context["moves"] if p.action.name == "recycle")
    assert recycle.form.errors == {"until": [error]}


def test_rep_recycles_an_accepted_lead_until_a_date(client, rep):
    lead = lead_of(rep, Stage.ACCEPTED)
    until = timezone.localdate() + timedelta(days=60)
    client.force_login(rep)
    response = client.post(url("recycle", lead), {"recycle-until": until.isoformat()}, follow=True)
    shown = f"{until:%b} {until.day}, {until.year}"
    assert messages_on(response) == [f"{lead} is in nurture until {shown}."]
    lead.refresh_from_db()
    assert (lead.stage, lead.nurture_until) == (Stage.RECYCLED, until)


def test_a_manager_recycles_a_rejected_lead_but_not_an_accepted_one(client, rep, manager):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    client.force_login(manager)
    rejected, accepted = lead_of(rep, Stage.REJECTED), lead_of(rep, Stage.ACCEPTED)
    assert client.post(url("recycle", rejected), {"recycle-until": tomorrow}).status_code == 302
    assert client.post(url("recycle", accepted), {"recycle-until": tomorrow}).status_code == 403


def test_a_blank_note_is_refused_next_to_the_field(client, rep):
    lead = lead_of(rep, Stage.ROUTED)
    client.force_login(rep)
    response = client.post(url("note", lead), {"note-text": "   "})
    assert response.status_code == 400
    assert response.context["note"].form.errors == {"text": ["This field is required."]}


def test_a_marketer_adds_a_note_to_any_lead(client, rep):
    lead = lead_of(rep, Stage.CONTACTED)
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.post(url("note", lead), {"note-text": "Came from the webinar."}, follow=True)
    assert messages_on(response) == ["Your note is in the lead's history."]
    assert lead.events.get().kind == Kind.NOTE


def test_manager_reassigns_to_an_active_rep_with_a_reason(client, rep, manager):
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Lima")
    lead = lead_of(rep, Stage.CONTACTED)
    client.force_login(manager)
    page = client.get(lead.get_absolute_url())
    reassign = next(p for p in page.context["moves"] if p.action.name == "reassign")
    assert set(reassign.form.fields["to_rep"].queryset) == {bruno}  # not Ana herself
    response = client.post(
        url("reassign", lead),
        {"reassign-to_rep": bruno.pk, "reassign-reason": "Ana is on leave."},
        follow=True,
    )
    assert messages_on(response) == [f"{lead} now belongs to Bruno Lima."]
    assert Assignment.objects.get(lead=lead).assigned_by == manager


def test_a_manager_is_offered_reps_only_not_herself_nor_another_manager(client, rep, manager):
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Lima")
    UserFactory(role=Role.SALES_MANAGER)
    lead = lead_of(rep, Stage.ROUTED)
    client.force_login(manager)
    page = client.get(lead.get_absolute_url())
    html = page.content.decode()
    reassign = next(p for p in page.context["moves"] if p.action.name == "reassign")
    assert set(reassign.form.fields["to_rep"].queryset) == {bruno}
    assert f'<option value="{manager.pk}"' not in html
    response = client.post(
        url("reassign", lead), {"reassign-to_rep": manager.pk, "reassign-reason": "Mine now."}
    )
    assert response.status_code == 400
    lead.refresh_from_db()
    assert lead.owner == rep


def test_reassigning_needs_a_rep_and_a_reason(client, rep, manager):
    lead = lead_of(rep, Stage.ROUTED)
    marketer = UserFactory(role=Role.MARKETER)
    client.force_login(manager)
    response = client.post(url("reassign", lead), {"reassign-to_rep": marketer.pk})
    assert response.status_code == 400
    reassign = next(p for p in response.context["moves"] if p.action.name == "reassign")
    assert set(reassign.form.errors) == {"to_rep", "reason"}
    assert not Assignment.objects.exists()


def test_a_rep_may_not_reassign_their_own_lead(client, rep):
    lead = lead_of(rep, Stage.ROUTED)
    client.force_login(rep)
    response = client.post(
        url("reassign", lead),
        {"reassign-to_rep": UserFactory(role=Role.SALES_REP).pk, "reassign-reason": "Busy."},
    )
    assert response.status_code == 403


def test_the_loser_of_a_race_reads_what_happened_on_the_lead_page(client, rep):
    lead = lead_of(rep, Stage.ROUTED)
    client.force_login(rep)
    # The rep's other tab accepted the lead after this page was drawn.
    lead_accept(lead=lead, by=rep)
    response = client.post(url("reject", lead), {"reject-reason": "no_budget"})
    assert response.status_code == 409
    assert response.templates[0].name == "inbox/detail.html"
    assert messages_on(response) == [
        f"{lead} is accepted: it cannot become rejected. Nothing changed."
    ]
    assert response.context["lead"].stage == Stage.ACCEPTED
    assert {p.action.name for p in response.context["moves"]} == {"contact", "lose", "recycle"}
    assert lead.events.count() == 1


def test_a_move_refused_under_the_lock_is_a_409_not_a_500(client, rep, monkeypatch):
    """The page's own check passed on a stale read; the service, under the lock, refuses."""
    lead = lead_of(rep, Stage.ROUTED)
    client.force_login(rep)
    accept = ACTIONS["accept"]

    def accepted_in_another_tab_first(*, lead, by):
        accept.do(lead=lead, by=by)
        return accept.do(lead=lead, by=by)

    monkeypatch.setitem(ACTIONS, "accept", replace(accept, do=accepted_in_another_tab_first))
    response = client.post(url("accept", lead))
    assert response.status_code == 409
    assert messages_on(response) == [f"{lead} is already accepted. Nothing changed."]
