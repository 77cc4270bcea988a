"""One function per kind of lead event. Each is called inside the transaction of the change
it records, so the history and the change commit together or not at all."""

from datetime import datetime
from typing import Any

from django.utils import timezone

from leads.models import Lead, LeadEvent

Kind = LeadEvent.Kind


def _record(
    lead: Lead,
    kind: str,
    *,
    reason: str,
    by=None,
    at: datetime | None = None,
    **fields: Any,
) -> LeadEvent:
    return LeadEvent.objects.create(
        lead=lead, kind=kind, actor=by, reason=reason, at=at or timezone.now(), **fields
    )


def event_submission_received(*, lead: Lead, submission, created: bool) -> LeadEvent:
    verb = "Submitted" if created else "Submitted again:"
    return _record(
        lead,
        Kind.SUBMISSION_RECEIVED,
        reason=f"{verb} the form {submission.form.name}.",
        at=submission.received_at,
        to_stage=lead.stage if created else "",
        data={"submission": submission.pk, "form": submission.form_id, "created": created},
    )


def event_stage_changed(
    *,
    lead: Lead,
    from_stage: str,
    by,
    reason: str,
    at: datetime,
    reason_code: str = "",
    data: dict | None = None,
) -> LeadEvent:
    return _record(
        lead,
        Kind.STAGE_CHANGED,
        by=by,
        at=at,
        reason=reason,
        from_stage=from_stage,
        to_stage=lead.stage,
        reason_code=reason_code,
        data=data or {},
    )


def event_assigned(*, lead: Lead, queue, rep, reason: str) -> LeadEvent:
    return _record(lead, Kind.ASSIGNED, reason=reason, data={"queue": queue.pk, "rep": rep.pk})


def event_reassigned(*, lead: Lead, from_rep, to_rep, by, reason: str) -> LeadEvent:
    return _record(
        lead,
        Kind.REASSIGNED,
        by=by,
        reason=reason,
        data={"from_rep": from_rep.pk if from_rep else None, "to_rep": to_rep.pk},
    )


def event_contact_logged(*, lead: Lead, by, channel: str, reason: str) -> LeadEvent:
    return _record(lead, Kind.CONTACT_LOGGED, by=by, reason=reason, data={"channel": channel})


def event_note(*, lead: Lead, by, text: str) -> LeadEvent:
    return _record(lead, Kind.NOTE, by=by, reason=text)


def events_recorded(events: list[LeadEvent]) -> list[LeadEvent]:
    """Many events at once (a re-scoring's), in one INSERT per 1,000: still each its own row."""
    return LeadEvent.objects.bulk_create(events, batch_size=1000)


def event_stage_changed_unsaved(
    *, lead: Lead, from_stage: str, reason: str, at: datetime, by=None
) -> LeadEvent:
    """A stage-change event to store with `events_recorded`."""
    return LeadEvent(
        lead=lead,
        kind=Kind.STAGE_CHANGED,
        actor=by,
        at=at,
        reason=reason,
        from_stage=from_stage,
        to_stage=lead.stage,
    )


def event_note_unsaved(*, lead: Lead, text: str, at: datetime, by=None) -> LeadEvent:
    """A note (LeadBridge's own when `by` is None) to store with `events_recorded`."""
    return LeadEvent(lead=lead, kind=Kind.NOTE, actor=by, at=at, reason=text)
