"""Every move a person makes on a lead, one transaction each.

Each service locks the lead first and only then looks at its stage and its owner, so two
people acting on one lead at the same moment are served one after the other: the second
finds the lead already moved and gets `IllegalMove` (409), never a half-done change.
"""

from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.utils import dateformat, timezone

from leads import locks
from leads.events import event_contact_logged, event_note
from leads.inbox.selectors import CONTACT_AGAIN, may_note, may_recycle, may_work
from leads.lifecycle import IllegalMove, can_move, lead_move
from leads.models import (
    ContactChannel,
    Lead,
    LeadEvent,
    LostReason,
    RejectionReason,
    RepeatSubmissionNotice,
    Stage,
)
from leads.routing.services import lead_rejected_as_invalid
from portal.errors import DomainError, PermissionDenied

NOTE_MAX_LENGTH = 2000

_A_CONTACT = {
    ContactChannel.CALL: "a call",
    ContactChannel.EMAIL: "an e-mail",
    ContactChannel.MEETING: "a meeting",
}


def lead_accept(*, lead: Lead, by) -> Lead:
    with transaction.atomic():
        lead = _locked(lead, by=by, to=Stage.ACCEPTED)
        lead_move(
            lead=lead,
            to=Stage.ACCEPTED,
            by=by,
            reason=f"{by} accepted the lead.",
            extra_fields=_first_action(lead),
        )
    return lead


def lead_reject(*, lead: Lead, by, reason: RejectionReason, note: str = "") -> Lead:
    """A rejection as not a real person or a duplicate credits the rep back in the queue's
    fairness ledger (docs/routing.md), in the same transaction."""
    with transaction.atomic():
        lead = _reasoned_move(
            lead,
            by=by,
            to=Stage.REJECTED,
            choices=RejectionReason,
            reason=reason,
            note=note,
            said="{by} rejected the lead: {reason}.",
            first_action=True,
        )
        lead_rejected_as_invalid(lead=lead, rep=by, reason=reason)
    return lead


def lead_contact(*, lead: Lead, by, channel: ContactChannel, note: str = "") -> Lead:
    """Log a call, an e-mail or a meeting. The first one moves an accepted lead to contacted;
    later ones are recorded without a change of stage. Either way the event keeps the channel."""
    channel = _choice(ContactChannel, channel, field="channel")
    note = _note(note)
    with transaction.atomic():
        lead = locks.lead_locked(lead.pk)
        if lead.stage not in CONTACT_AGAIN and not can_move(lead.stage, Stage.CONTACTED):
            raise IllegalMove(lead, Stage.CONTACTED)
        _require(may_work, lead=lead, by=by)
        reason = _sentence(f"{by} logged {_A_CONTACT[channel]}.", note)
        if lead.stage in CONTACT_AGAIN:
            event_contact_logged(lead=lead, by=by, channel=channel, reason=reason)
        else:
            lead_move(
                lead=lead,
                to=Stage.CONTACTED,
                by=by,
                reason=reason,
                data={"channel": channel.value},
                extra_fields=_first_action(lead),
            )
    return lead


def lead_convert(*, lead: Lead, by, note: str = "") -> Lead:
    return _rep_move(
        lead, by=by, to=Stage.OPPORTUNITY, said=f"{by} made the lead an opportunity.", note=note
    )


def lead_win(*, lead: Lead, by, note: str = "") -> Lead:
    return _rep_move(lead, by=by, to=Stage.WON, said=f"{by} won the deal.", note=note)


def lead_lose(*, lead: Lead, by, reason: LostReason, note: str = "") -> Lead:
    return _reasoned_move(
        lead,
        by=by,
        to=Stage.LOST,
        choices=LostReason,
        reason=reason,
        note=note,
        said="{by} lost the deal: {reason}.",
    )


def lead_recycle(*, lead: Lead, by, until: date, note: str = "") -> Lead:
    """Back to nurture until `until`: from any stage its rep works (accepted, contacted,
    opportunity) by the rep, from rejected also by a manager."""
    if until <= timezone.localdate():
        raise DomainError(
            "Choose a day after today for the lead to come back.", code="not_future", field="until"
        )
    note = _note(note)
    with transaction.atomic():
        lead = _locked(lead, by=by, to=Stage.RECYCLED, allowed=may_recycle)
        lead.nurture_until = until
        lead_move(
            lead=lead,
            to=Stage.RECYCLED,
            by=by,
            reason=_sentence(
                f"{by} sent the lead back to nurture until {dateformat.format(until, 'M j, Y')}.",
                note,
            ),
            data={"nurture_until": until.isoformat()},
            extra_fields=("nurture_until",),
        )
    return lead


def lead_note_add(*, lead: Lead, by, text: str) -> LeadEvent:
    """A note on the lead's history, by its rep or anyone who oversees every lead."""
    text = _note(text, required=True, field="text")
    with transaction.atomic():
        # Locked so a note and a change of owner are served in turn: the owner is checked
        # as it is when the note is written.
        lead = locks.lead_locked(lead.pk)
        _require(may_note, lead=lead, by=by)
        return event_note(lead=lead, by=by, text=text)


def lead_repeats_seen(*, lead: Lead, by) -> int:
    """The owner has seen the lead's repeat submissions: their notices go; how many did.

    Not a change of the lead (its history already holds each submission), so no event.
    """
    if not may_work(user=by, lead=lead):
        raise PermissionDenied(f"{by} does not work {lead}.")
    return RepeatSubmissionNotice.objects.filter(lead=lead, seen_at__isnull=True).update(
        seen_at=timezone.now(), seen_by=by
    )


def _rep_move(lead: Lead, *, by, to: Stage, said: str, note: str) -> Lead:
    note = _note(note)
    with transaction.atomic():
        lead = _locked(lead, by=by, to=to)
        lead_move(lead=lead, to=to, by=by, reason=_sentence(said, note))
    return lead


def _reasoned_move(
    lead: Lead,
    *,
    by,
    to: Stage,
    choices,
    reason: str,
    note: str,
    said: str,
    first_action: bool = False,
) -> Lead:
    """A move that gives a reason from a list (`choices`); "other" wants a note saying it."""
    reason = _choice(choices, reason, field="reason")
    note = _note(note, required=reason == choices.OTHER)
    with transaction.atomic():
        lead = _locked(lead, by=by, to=to)
        lead_move(
            lead=lead,
            to=to,
            by=by,
            reason=_sentence(said.format(by=by, reason=reason.label), note),
            reason_code=reason,
            extra_fields=_first_action(lead) if first_action else (),
        )
    return lead


def _locked(lead: Lead, *, by, to: Stage, allowed: Callable[..., bool] = may_work) -> Lead:
    """The lead, locked, once it is known that it may move to `to` and that `by` may move it.

    The stage is read under the lock: read before, two people could both see it routed.
    """
    locked = locks.lead_locked(lead.pk)
    if not can_move(locked.stage, to):
        raise IllegalMove(locked, to)
    _require(allowed, lead=locked, by=by)
    return locked


def _require(allowed: Callable[..., bool], *, lead: Lead, by) -> None:
    if not allowed(user=by, lead=lead):
        raise PermissionDenied(f"{by} may not do this to {lead}: it is not in their inbox.")


def _first_action(lead: Lead) -> tuple[str, ...]:
    """Speed to lead ends with the rep's first accept, reject or contact."""
    if lead.first_action_at is None:
        lead.first_action_at = timezone.now()
        return ("first_action_at",)
    return ()


def _choice(choices, value, *, field: str):
    try:
        return choices(value)
    except ValueError:
        raise DomainError(
            f"Choose one of the listed options, not “{value}”.", code="invalid_choice", field=field
        ) from None


def _note(text: str, *, required: bool = False, field: str = "note") -> str:
    text = (text or "").strip()
    if required and not text:
        raise DomainError(
            "Write the note first." if field == "text" else "Say what the other reason is.",
            code="required",
            field=field,
        )
    if len(text) > NOTE_MAX_LENGTH:
        raise DomainError(
            f"Keep it to {NOTE_MAX_LENGTH} characters (it has {len(text)}).",
            code="max_length",
            field=field,
        )
    return text


def _sentence(said: str, note: str) -> str:
    return f"{said} {note}" if note else said
