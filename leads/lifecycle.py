"""The one place a lead's stage changes.

The arrows are the glossary's lifecycle. `lead_move` refuses any other move and writes the
stage-change event in the caller's transaction, so a stage never changes without its record.
Pages ask `moves_from` which moves to offer; they never list stages themselves.
"""

from django.db import transaction
from django.utils import timezone

from leads.events import event_stage_changed, event_stage_changed_unsaved, events_recorded
from leads.models import Lead, LeadEvent, Stage
from portal.errors import Conflict

TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.CAPTURED: frozenset({Stage.QUALIFIED, Stage.DISQUALIFIED}),
    # Nurture: kept, and back in the funnel as soon as the lead qualifies.
    Stage.DISQUALIFIED: frozenset({Stage.QUALIFIED}),
    Stage.RECYCLED: frozenset({Stage.QUALIFIED}),
    Stage.QUALIFIED: frozenset({Stage.ROUTED}),
    Stage.ROUTED: frozenset({Stage.ACCEPTED, Stage.REJECTED}),
    Stage.ACCEPTED: frozenset({Stage.CONTACTED, Stage.RECYCLED}),
    # Sent back to marketing: nurtured, or re-routed to another rep.
    Stage.REJECTED: frozenset({Stage.RECYCLED, Stage.ROUTED}),
    Stage.CONTACTED: frozenset({Stage.OPPORTUNITY}),
    Stage.OPPORTUNITY: frozenset({Stage.WON, Stage.LOST}),
    Stage.WON: frozenset(),
    Stage.LOST: frozenset(),
}

# A rep is working these: they count against the rep's capacity.
OPEN_STAGES = frozenset({Stage.ROUTED, Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY})


class IllegalMove(Conflict):
    """The lead is not (or no longer) in a stage from which this move is allowed."""

    code = "illegal_move"

    def __init__(self, lead: Lead, to: str = "", *, doing: str = ""):
        """`doing` names a refused act that changes no stage ("reassigned")."""
        self.lead, self.to = lead, to
        now = Stage(lead.stage).label.lower()
        if doing:
            refused = f"{lead} is {now}: it cannot be {doing}."
        elif lead.stage == to:
            refused = f"{lead} is already {now}."
        else:
            refused = f"{lead} is {now}: it cannot become {Stage(to).label.lower()}."
        super().__init__(f"{refused} Nothing changed.")


def can_move(from_stage: str, to_stage: str) -> bool:
    return to_stage in TRANSITIONS[from_stage]


def moves_from(stage: str) -> frozenset[str]:
    return TRANSITIONS[stage]


def lead_move(
    *,
    lead: Lead,
    to: Stage,
    by=None,
    reason: str,
    reason_code: str = "",
    data: dict | None = None,
    extra_fields: tuple[str, ...] = (),
) -> LeadEvent:
    """Move a locked `lead` to `to` and record why. `extra_fields` are saved in the same UPDATE."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lead_move must run inside the transaction that locks the lead.")
    if not can_move(lead.stage, to):
        raise IllegalMove(lead, to)
    now = timezone.now()
    from_stage = lead.stage
    lead.stage = to
    lead.stage_changed_at = now
    lead.save(update_fields=["stage", "stage_changed_at", "updated_at", *extra_fields])
    return event_stage_changed(
        lead=lead,
        from_stage=from_stage,
        by=by,
        reason=reason,
        at=now,
        reason_code=reason_code,
        data=data,
    )


def leads_move(
    *,
    leads: list[Lead],
    to: Stage,
    reasons: dict[int, str],
    by=None,
    extra_fields: tuple[str, ...] = (),
) -> list[LeadEvent]:
    """`lead_move` for many locked leads at once (a re-scoring): one UPDATE per distinct set of
    `extra_fields` values, their events inserted together, in the caller's transaction. All
    or nothing: one lead that cannot make the move refuses the whole batch."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("leads_move must run inside the transaction that locks the leads.")
    for lead in leads:
        if not can_move(lead.stage, to):
            raise IllegalMove(lead, to)
    now = timezone.now()
    events = []
    for lead in leads:
        from_stage = lead.stage
        lead.stage, lead.stage_changed_at, lead.updated_at = to, now, now
        events.append(
            event_stage_changed_unsaved(
                lead=lead, from_stage=from_stage, by=by, reason=reasons[lead.pk], at=now
            )
        )
    # One UPDATE per distinct set of extra values (a re-scoring's few scores), not per lead.
    groups: dict[tuple, list[int]] = {}
    for lead in leads:
        groups.setdefault(tuple(getattr(lead, name) for name in extra_fields), []).append(lead.pk)
    for values, pks in groups.items():
        Lead.objects.filter(pk__in=pks).update(
            stage=to,
            stage_changed_at=now,
            updated_at=now,
            **dict(zip(extra_fields, values, strict=True)),
        )
    return events_recorded(events)
