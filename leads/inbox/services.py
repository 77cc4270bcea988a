from django.db import transaction
from django.utils import timezone

from leads import locks
from leads.lifecycle import lead_move
from leads.models import Lead, RejectionReason, Stage


class NotYourLead(Exception):
    pass


def _locked_for(lead: Lead, by) -> Lead:
    locked = locks.lead_locked(lead.pk)
    if locked.owner_id != by.pk:
        raise NotYourLead(f"{lead} is not in {by}'s inbox.")
    return locked


def _first_action(lead: Lead) -> tuple[str, ...]:
    if lead.first_action_at is None:
        lead.first_action_at = timezone.now()
        return ("first_action_at",)
    return ()


def lead_accept(*, lead: Lead, by) -> Lead:
    with transaction.atomic():
        lead = _locked_for(lead, by)
        lead_move(
            lead=lead,
            to=Stage.ACCEPTED,
            by=by,
            reason=f"{by} accepted the lead.",
            extra_fields=_first_action(lead),
        )
    return lead


def lead_reject(*, lead: Lead, by, reason: RejectionReason, note: str = "") -> Lead:
    if reason == RejectionReason.OTHER and not note.strip():
        raise ValueError("A rejection for another reason needs a note saying what it is.")
    with transaction.atomic():
        lead = _locked_for(lead, by)
        why = RejectionReason(reason).label
        lead_move(
            lead=lead,
            to=Stage.REJECTED,
            by=by,
            reason=f"{by} rejected the lead: {why}." + (f" {note.strip()}" if note.strip() else ""),
            reason_code=reason,
            extra_fields=_first_action(lead),
        )
    return lead
