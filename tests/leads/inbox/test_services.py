from datetime import timedelta

import pytest
from django.utils import timezone

from leads.inbox.services import (
    NOTE_MAX_LENGTH,
    lead_accept,
    lead_contact,
    lead_convert,
    lead_lose,
    lead_note_add,
    lead_recycle,
    lead_reject,
    lead_win,
)
from leads.lifecycle import IllegalMove
from leads.models import ContactChannel, LeadEvent, LostReason, RejectionReason, Stage
from portal.accounts.roles import Role
from portal.errors import DomainError, PermissionDenied
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = LeadEvent.Kind


def tomorrow():
    return timezone.localdate() + timedelta(days=1)


# Each rep move, what it needs besides the lead and the person, and the stages it starts from.
REP_MOVES = {
    "accept": (lead_accept, dict, {Stage.ROUTED}),
    "reject": (lead_reject, lambda: {"reason": RejectionReason.NO_BUDGET}, {Stage.ROUTED}),
    "contact": (
        lead_contact,
        lambda: {"channel": ContactChannel.CALL},
        {Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY},
    ),
    "convert": (lead_convert, dict, {Stage.CONTACTED}),
    "win": (lead_win, dict, {Stage.OPPORTUNITY}),
    # Every stage a rep works has a way out: lost, or nurture with a return date.
    "lose": (
        lead_lose,
        lambda: {"reason": LostReason.PRICE},
        {Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY},
    ),
    "recycle": (
        lead_recycle,
        lambda: {"until": tomorrow()},
        {Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY, Stage.REJECTED},
    ),
}


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP)


@pytest.fixture
def manager():
    return UserFactory(role=Role.SALES_MANAGER)


def owned(rep, stage, **fields):
    return LeadFactory(stage=stage, owner=rep, **fields)


@pytest.mark.parametrize("stage", Stage.values)
@pytest.mark.parametrize("move", REP_MOVES)
def test_each_rep_move_is_taken_from_its_stages_and_refused_from_every_other(rep, move, stage):
    service, extra, allowed_from = REP_MOVES[move]
    lead = owned(rep, stage)
    if stage in allowed_from:
        service(lead=lead, by=rep, **extra())
        assert lead.events.filter(actor=rep).count() == 1
        return
    with pytest.raises(IllegalMove) as refused:
        service(lead=lead, by=rep, **extra())
    assert refused.value.status == 409
    lead.refresh_from_db()
    assert lead.stage == stage
    assert not lead.events.exists()


@pytest.mark.parametrize("move", REP_MOVES)
@pytest.mark.parametrize("who", [Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETER])
def test_no_one_but_the_owning_rep_takes_a_rep_move(rep, move, who):
    service, extra, allowed_from = REP_MOVES[move]
    # Recycling a rejected lead is also a manager's; accepted leads are the rep's alone.
    stage = Stage.ACCEPTED if move == "recycle" else sorted(allowed_from)[0]
    lead = owned(rep, stage)
    with pytest.raises(PermissionDenied) as refused:
        service(lead=lead, by=UserFactory(role=who), **extra())
    assert refused.value.status == 403
    lead.refresh_from_db()
    assert (lead.stage, lead.events.count()) == (stage, 0)


def test_a_rep_who_lost_their_work_permission_cannot_move_their_leads(rep):
    lead = owned(rep, Stage.ROUTED)
    rep.groups.clear()
    rep = type(rep).objects.get(pk=rep.pk)  # a fresh user: permissions are cached
    with pytest.raises(PermissionDenied):
        lead_accept(lead=lead, by=rep)


def test_accept_records_the_move_and_stops_the_speed_to_lead_clock(rep):
    lead = lead_accept(lead=owned(rep, Stage.ROUTED), by=rep)
    lead.refresh_from_db()
    assert lead.stage == Stage.ACCEPTED
    assert lead.first_action_at is not None
    event = lead.events.get()
    assert (event.kind, event.from_stage, event.to_stage, event.actor, event.reason) == (
        Kind.STAGE_CHANGED,
        Stage.ROUTED,
        Stage.ACCEPTED,
        rep,
        f"{rep} accepted the lead.",
    )


def test_accepting_twice_says_the_lead_is_already_accepted(rep):
    lead = owned(rep, Stage.ROUTED)
    lead_accept(lead=lead, by=rep)
    with pytest.raises(IllegalMove, match=r"is already accepted\. Nothing changed\."):
        lead_accept(lead=lead, by=rep)


def test_a_stale_copy_of_the_lead_does_not_fool_a_move(rep):
    stale = owned(rep, Stage.ROUTED)
    lead_reject(lead=stale, by=rep, reason=RejectionReason.DUPLICATE)
    assert stale.stage == Stage.ROUTED  # the caller's object was read before the reject
    with pytest.raises(IllegalMove, match="is rejected: it cannot become accepted"):
        lead_accept(lead=stale, by=rep)
    assert stale.events.count() == 1


def test_reject_records_the_reason_for_marketing(rep):
    lead = lead_reject(
        lead=owned(rep, Stage.ROUTED), by=rep, reason=RejectionReason.NO_BUDGET, note=" March. "
    )
    event = lead.events.get()
    assert event.reason_code == RejectionReason.NO_BUDGET
    assert event.reason == f"{rep} rejected the lead: No budget. March."
    assert lead.first_action_at is not None


def test_reject_for_another_reason_needs_a_note(rep):
    lead = owned(rep, Stage.ROUTED)
    with pytest.raises(DomainError) as refused:
        lead_reject(lead=lead, by=rep, reason=RejectionReason.OTHER, note="  ")
    assert (refused.value.field, refused.value.status) == ("note", 400)
    assert not lead.events.exists()


def test_reject_with_a_reason_off_the_list_is_refused(rep):
    with pytest.raises(DomainError) as refused:
        lead_reject(lead=owned(rep, Stage.ROUTED), by=rep, reason="bored")
    assert refused.value.field == "reason"


def test_first_contact_moves_an_accepted_lead_and_keeps_the_channel(rep):
    lead = lead_contact(
        lead=owned(rep, Stage.ACCEPTED), by=rep, channel=ContactChannel.EMAIL, note="Sent deck."
    )
    lead.refresh_from_db()
    assert lead.stage == Stage.CONTACTED
    event = lead.events.get()
    assert (event.kind, event.from_stage, event.to_stage) == (
        Kind.STAGE_CHANGED,
        Stage.ACCEPTED,
        Stage.CONTACTED,
    )
    assert event.data == {"channel": "email"}
    assert event.reason == f"{rep} logged an e-mail. Sent deck."


@pytest.mark.parametrize("stage", [Stage.CONTACTED, Stage.OPPORTUNITY])
def test_a_later_contact_is_logged_without_a_change_of_stage(rep, stage):
    lead = owned(rep, stage)
    lead_contact(lead=lead, by=rep, channel=ContactChannel.MEETING)
    lead.refresh_from_db()
    assert lead.stage == stage
    event = lead.events.get()
    assert (event.kind, event.from_stage, event.to_stage, event.data) == (
        Kind.CONTACT_LOGGED,
        "",
        "",
        {"channel": "meeting"},
    )
    assert event.reason == f"{rep} logged a meeting."


def test_a_contact_is_the_reps_first_action_when_nothing_came_before(rep):
    lead = lead_contact(lead=owned(rep, Stage.ACCEPTED), by=rep, channel=ContactChannel.CALL)
    lead.refresh_from_db()
    assert lead.first_action_at is not None


def test_a_later_action_leaves_the_first_action_time_alone(rep):
    lead = lead_accept(lead=owned(rep, Stage.ROUTED), by=rep)
    first = lead.first_action_at
    lead_contact(lead=lead, by=rep, channel=ContactChannel.CALL)
    lead.refresh_from_db()
    assert lead.first_action_at == first


def test_contact_on_an_unknown_channel_is_refused(rep):
    with pytest.raises(DomainError) as refused:
        lead_contact(lead=owned(rep, Stage.ACCEPTED), by=rep, channel="pigeon")
    assert refused.value.field == "channel"


def test_convert_and_win_say_who_did_it_and_keep_the_note(rep):
    lead = lead_convert(lead=owned(rep, Stage.CONTACTED), by=rep, note="Budget approved.")
    lead = lead_win(lead=lead, by=rep)
    lead.refresh_from_db()
    assert lead.stage == Stage.WON
    assert list(lead.events.values_list("to_stage", "reason")) == [
        (Stage.OPPORTUNITY, f"{rep} made the lead an opportunity. Budget approved."),
        (Stage.WON, f"{rep} won the deal."),
    ]


def test_lose_records_the_lost_reason(rep):
    lead = lead_lose(lead=owned(rep, Stage.OPPORTUNITY), by=rep, reason=LostReason.COMPETITOR)
    event = lead.events.get()
    assert (event.to_stage, event.reason_code) == (Stage.LOST, LostReason.COMPETITOR)
    assert event.reason == f"{rep} lost the deal: Chose a competitor."


def test_lose_for_another_reason_needs_a_note(rep):
    lead = owned(rep, Stage.OPPORTUNITY)
    with pytest.raises(DomainError) as refused:
        lead_lose(lead=lead, by=rep, reason=LostReason.OTHER)
    assert refused.value.field == "note"
    lead_lose(lead=lead, by=rep, reason=LostReason.OTHER, note="Company closed.")
    assert lead.events.get().reason == f"{rep} lost the deal: Other. Company closed."


def test_lose_with_a_rejection_reason_is_refused(rep):
    with pytest.raises(DomainError) as refused:
        lead_lose(lead=owned(rep, Stage.OPPORTUNITY), by=rep, reason=RejectionReason.DUPLICATE)
    assert refused.value.field == "reason"


def test_recycle_keeps_the_return_date_on_the_lead_and_in_the_event(rep):
    until = timezone.localdate() + timedelta(days=90)
    lead = lead_recycle(lead=owned(rep, Stage.ACCEPTED), by=rep, until=until, note="Q3 budget.")
    lead.refresh_from_db()
    assert (lead.stage, lead.nurture_until) == (Stage.RECYCLED, until)
    event = lead.events.get()
    assert event.data == {"nurture_until": until.isoformat()}
    assert event.reason.endswith(f"until {until:%b} {until.day}, {until.year}. Q3 budget.")


@pytest.mark.parametrize("days", [0, -1, -400])
def test_recycle_needs_a_day_after_today(rep, days):
    lead = owned(rep, Stage.ACCEPTED)
    with pytest.raises(DomainError) as refused:
        lead_recycle(lead=lead, by=rep, until=timezone.localdate() + timedelta(days=days))
    assert (refused.value.field, refused.value.status) == ("until", 400)
    lead.refresh_from_db()
    assert (lead.stage, lead.nurture_until) == (Stage.ACCEPTED, None)


def test_a_manager_recycles_a_rejected_lead(rep, manager):
    lead = lead_recycle(lead=owned(rep, Stage.REJECTED), by=manager, until=tomorrow())
    assert lead.stage == Stage.RECYCLED
    assert lead.events.get().actor == manager


def test_a_manager_cannot_recycle_a_lead_their_rep_is_working(rep, manager):
    with pytest.raises(PermissionDenied):
        lead_recycle(lead=owned(rep, Stage.ACCEPTED), by=manager, until=tomorrow())


def test_the_owner_adds_a_note_in_any_stage(rep):
    lead = owned(rep, Stage.WON)
    event = lead_note_add(lead=lead, by=rep, text="  Referred two friends.  ")
    assert (event.kind, event.actor, event.reason) == (Kind.NOTE, rep, "Referred two friends.")
    lead.refresh_from_db()
    assert lead.stage == Stage.WON


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.MARKETER, Role.MARKETING_MANAGER])
def test_those_who_see_every_lead_add_notes_to_any(rep, role):
    author = UserFactory(role=role)
    assert lead_note_add(lead=owned(rep, Stage.ROUTED), by=author, text="Hi").actor == author


def test_another_rep_cannot_note_a_lead_they_do_not_own(rep):
    lead = owned(rep, Stage.ROUTED)
    with pytest.raises(PermissionDenied):
        lead_note_add(lead=lead, by=UserFactory(role=Role.SALES_REP), text="Mine now.")
    assert not lead.events.exists()


@pytest.mark.parametrize(
    ("text", "code"), [("", "required"), ("   ", "required"), ("x" * 2001, "max_length")]
)
def test_a_note_must_say_something_and_not_too_much(rep, text, code):
    assert NOTE_MAX_LENGTH == 2000
    with pytest.raises(DomainError) as refused:
        lead_note_add(lead=owned(rep, Stage.ROUTED), by=rep, text=text)
    assert (refused.value.field, refused.value.code) == ("text", code)
