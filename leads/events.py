"""One function per kind of lead event. Each is called inside the transaction of the change
it records, so the history and the change commit together or not at all.

`event_*` writes its event at once (`event_save`). The handoff's batches build theirs with
`new_*` and write a whole batch with `events_record`, one INSERT in the same transaction; a
re-scoring notes thousands of leads at once with `notes_record`, without a model instance each.

Whoever must hear of an event is told as it is written, in the same transaction, by
`leads.audience` (notes tell no one).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from leads.audience import events_heard
from leads.models import Lead, LeadEvent
from portal.sql import columns_sql, copy_escaped, copy_rows, copy_text

Kind = LeadEvent.Kind


def _new(
    lead: Lead,
    kind: str,
    *,
    reason: str,
    by=None,
    at: datetime | None = None,
    **fields: Any,
) -> LeadEvent:
    return LeadEvent(
        lead=lead, kind=kind, actor=by, reason=reason, at=at or timezone.now(), **fields
    )


def _record(lead: Lead, kind: str, **fields: Any) -> LeadEvent:
    return event_save(_new(lead, kind, **fields))


def event_save(event: "LeadEvent | BatchEvent") -> LeadEvent:
    """Write one event built by `new_*` (or `lead_moved`) and tell whoever must hear of it."""
    if isinstance(event, BatchEvent):
        event = LeadEvent(lead=event.lead, **{c: getattr(event, c) for c in _COLUMNS[1:]})
    event.save()
    events_heard([event])
    return event


def events_record(events: "Sequence[LeadEvent | BatchEvent]") -> None:
    """Write events built by `new_*` (LeadEvents, or BatchEvents), in their order (their
    ids grow in that order; the instances are not given them: read the events back for
    their ids), and tell whoever must hear of them: one INSERT of notifications for the
    batch."""
    if connection.vendor == "postgresql":
        if events:
            copy_text(COPY_EVENTS, "".join(map(_copy_line, events)))
    else:
        _inserted([tuple(getattr(event, column) for column in _COLUMNS) for event in events])
    events_heard(events)


def _copy_line(event: "LeadEvent | BatchEvent") -> str:
    """One event in COPY's text format, `_COLUMNS` in order, each value written as its
    column's type asks: `copy_rows` asked each value its type, a fifth of writing routing's
    events (py-spy)."""
    actor = event.actor_id
    return (
        "\t".join(
            (
                str(event.lead_id),
                copy_escaped(event.kind),
                event.at.isoformat(),
                "\\N" if actor is None else str(actor),
                copy_escaped(event.from_stage),
                copy_escaped(event.to_stage),
                copy_escaped(event.reason),
                copy_escaped(event.reason_code),
                copy_escaped(json.dumps(event.data)),
            )
        )
        + "\n"
    )


def notes_record(notes: Iterable[tuple[int, str]], *, at: datetime, by=None) -> None:
    """Notes on many leads, `(lead id, text)` each, LeadBridge's own when `by` is None: for a
    batch that notes every lead it touches (a re-scoring)."""
    actor = by.pk if by is not None else None
    if connection.vendor == "postgresql":
        # COPY: quoting every row's values for an INSERT cost more than writing them.
        who = str(actor) if actor is not None else "\\N"  # COPY's NULL
        head = f"\t{Kind.NOTE.value}\t{at.isoformat()}\t{who}\t\t\t"
        lines = [f"{lead_id}{head}{copy_escaped(text)}\t\t{{}}\n" for lead_id, text in notes]
        if lines:
            copy_text(COPY_EVENTS, "".join(lines))
        return
    _inserted([(lead_id, Kind.NOTE, at, actor, "", "", text, "", {}) for lead_id, text in notes])


_COLUMNS = (
    "lead_id",
    "kind",
    "at",
    "actor_id",
    "from_stage",
    "to_stage",
    "reason",
    "reason_code",
    "data",
)
COPY_EVENTS = f"COPY {columns_sql(LeadEvent, _COLUMNS)} FROM STDIN"


def _inserted(rows: list[tuple]) -> None:
    """Plain rows in `_COLUMNS` order, in that order. On PostgreSQL by COPY, without model
    instances (`bulk_create` built and compiled one per event: a tenth of a batch's time)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        events = (LeadEvent(**dict(zip(_COLUMNS, row, strict=True))) for row in rows)
        LeadEvent.objects.bulk_create(events)
        return
    copy_rows(COPY_EVENTS, rows)


def event_submission_received(*, lead: Lead, submission, created: bool) -> LeadEvent:
    return event_save(new_submission_received(lead=lead, submission=submission, created=created))


def new_submission_received(*, lead: Lead, submission, created: bool) -> LeadEvent:
    return _new(
        lead,
        Kind.SUBMISSION_RECEIVED,
        reason=submission_received_reason(submission, created=created),
        at=submission.received_at,
        to_stage=lead.stage if created else "",
        data={"submission": submission.pk, "form": submission.form_id, "created": created},
    )


def submission_received_reason(submission, *, created: bool) -> str:
    verb = "Submitted" if created else "Submitted again:"
    return f"{verb} the form {submission.form.name}."


def event_lead_imported(
    *, lead: Lead, submission, created: bool, by, lead_import_id: int, row: int
) -> LeadEvent:
    """A row of a CSV import, dated when the lead first reached the company (the file says)."""
    verb = "Imported" if created else "Imported again:"
    return _record(
        lead,
        Kind.SUBMISSION_RECEIVED,
        by=by,
        reason=f"{verb} row {row} of a CSV import into the form {submission.form.name}.",
        at=submission.received_at,
        to_stage=lead.stage if created else "",
        data={
            "submission": submission.pk,
            "form": submission.form_id,
            "created": created,
            "import": lead_import_id,
            "row": row,
        },
    )


def new_stage_changed(
    *,
    lead: Lead,
    from_stage: str,
    by,
    reason: str,
    at: datetime,
    reason_code: str = "",
    data: dict | None = None,
) -> "BatchEvent":
    """A row, not a model: batches move thousands of leads (`event_save` writes one alone)."""
    actor_id = by.pk if by is not None else None
    return BatchEvent(
        lead, Kind.STAGE_CHANGED, reason, at, data or {}, actor_id, from_stage, lead.stage,
        reason_code,
    )  # fmt: skip


def new_assigned(
    *, lead: Lead, queue_id: int, rep_id: int, reason: str, at: datetime, why: dict | None = None
) -> "BatchEvent":
    """`why`: routing's explanation (the queue matched, those passed over, who was skipped)."""
    data = {"queue": queue_id, "rep": rep_id}
    if why:
        data["why"] = why
    return BatchEvent(lead, Kind.ASSIGNED, reason, at, data)


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


def event_flagged(*, lead: Lead, by, reason: str, flag_id: int, criterion_id: int | None):
    """A rep says the lead should not have qualified (`criterion_id` None: none fits)."""
    data = {"flag": flag_id, "criterion": criterion_id}
    return _record(lead, Kind.FLAGGED, by=by, reason=reason, data=data)


def event_released_from_quarantine(*, lead: Lead, submission, by, why: str, reasons) -> LeadEvent:
    """A person let a post that looked like spam through; its submission made or updated this
    lead. A note, so the timeline says who vouched for it and why."""
    who = str(by) if by else "LeadBridge"
    return _record(
        lead,
        Kind.NOTE,
        by=by,
        reason=f"Released from the spam quarantine by {who}: {why}",
        data={"submission": submission.pk, "quarantine_reasons": list(reasons)},
    )


def new_note(*, lead: Lead, text: str, at: datetime | None = None, by=None) -> LeadEvent:
    """A note (LeadBridge's own when `by` is None), for a batch to write with `events_record`."""
    return _new(lead, Kind.NOTE, by=by, at=at, reason=text)


# The escalation ladder (leads/routing/escalation.py) and nurture's return. LeadBridge's own
# acts (no actor); `data` is what the notifications read: who is meant, which step, when due.


@dataclass(slots=True)
class BatchEvent:
    """A lead event a batch writes (`events_record`), with a LeadEvent's attributes but no
    model instance: the ladder writes two per due lead, routing two per lead, and Django's
    `Model.__init__` per event was a sixth of the ladder's Python time (py-spy, bench/sla.py)
    and, with the lead and actor set through their descriptors, a sixth of routing's."""

    lead: Lead
    kind: str
    reason: str
    at: datetime
    data: dict
    actor_id: int | None = None
    from_stage: str = ""
    to_stage: str = ""
    reason_code: str = ""
    lead_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.lead_id = self.lead.pk


def new_sla_reminder(*, lead: Lead, reason: str, at: datetime) -> BatchEvent:
    data = {"step": lead.due_step, "due_at": lead.due_at.isoformat(), "rep": lead.owner_id}
    return BatchEvent(lead, Kind.SLA_REMINDER, reason, at, data)


def new_sla_breached(
    *, lead: Lead, manager_id: int | None, reason: str, at: datetime
) -> BatchEvent:
    """Recorded against the rep who held the lead when its time ran out (`data["rep"]`)."""
    data = {
        "step": lead.due_step,
        "due_at": lead.due_at.isoformat(),
        "rep": lead.owner_id,
        "queue": lead.queue_id,
        "manager": manager_id,
    }
    return BatchEvent(lead, Kind.SLA_BREACHED, reason, at, data)


def new_reassigned(
    *, lead: Lead, from_rep_id: int | None, to_rep_id: int, reason: str, at: datetime, data: dict
) -> BatchEvent:
    """A reassignment LeadBridge made (the ladder), for a batch to write with `events_record`."""
    data = {"from_rep": from_rep_id, "to_rep": to_rep_id, **data}
    return BatchEvent(lead, Kind.REASSIGNED, reason, at, data)


def new_back_from_nurture(*, lead: Lead, reason: str, at: datetime, data: dict) -> BatchEvent:
    return BatchEvent(lead, Kind.BACK_FROM_NURTURE, reason, at, data)
