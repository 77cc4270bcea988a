"""The one place a lead's stage changes.

The arrows are the glossary's lifecycle. `lead_move` refuses any other move and writes the
HandoffEvent in the caller's transaction, so a stage never changes without its audit row.
"""

from django.db import transaction
from django.utils import timezone

from leads.models import HandoffEvent, Lead, RejectionReason, Stage

TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.CAPTURED: frozenset({Stage.QUALIFIED, Stage.DISQUALIFIED}),
    # Nurture: kept, and back in the funnel as soon as the lead qualifies.
    Stage.DISQUALIFIED: frozenset({Stage.QUALIFIED}),
    Stage.RECYCLED: frozenset({Stage.QUALIFIED}),
    Stage.QUALIFIED: frozenset({Stage.ROUTED}),
    Stage.ROUTED: frozenset({Stage.ACCEPTED, Stage.REJECTED}),
    Stage.ACCEPTED: frozenset({Stage.CONTACTED, Stage.RECYCLED}),
    Stage.REJECTED: frozenset({Stage.RECYCLED, Stage.ROUTED}),
    Stage.CONTACTED: frozenset({Stage.OPPORTUNITY}),
    Stage.OPPORTUNITY: frozenset({Stage.WON, Stage.LOST}),
    Stage.WON: frozenset(),
    Stage.LOST: frozenset(),
}

OPEN_STAGES = frozenset({Stage.ROUTED, Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY})


class IllegalMove(Exception):
    def __init__(self, lead: Lead, to: str):
        self.lead, self.to = lead, to
        super().__init__(f"A {Stage(lead.stage).label.lower()} lead cannot become {to}.")


def can_move(from_stage: str, to_stage: str) -> bool:
    return to_stage in TRANSITIONS[from_stage]


def lead_move(
    *,
    lead: Lead,
    to: Stage,
    by=None,
    reason: str,
    rejection_reason: RejectionReason | str = "",
    extra_fields: tuple[str, ...] = (),
) -> HandoffEvent:
    """Move `lead` to `to` and record why. `extra_fields` are saved in the same UPDATE."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lead_move must run inside the transaction that locks the lead.")
    if not can_move(lead.stage, to):
        raise IllegalMove(lead, to)
    now = timezone.now()
    from_stage = lead.stage
    lead.stage = to
    lead.stage_changed_at = now
    lead.save(update_fields=["stage", "stage_changed_at", "updated_at", *extra_fields])
    return HandoffEvent.objects.create(
        lead=lead,
        from_stage=from_stage,
        to_stage=to,
        actor=by,
        reason=reason,
        rejection_reason=rejection_reason,
        at=now,
    )


def lead_record_creation(*, lead: Lead, reason: str) -> HandoffEvent:
    """The first event of every lead: how it came to be captured."""
    return HandoffEvent.objects.create(
        lead=lead, from_stage="", to_stage=lead.stage, reason=reason, at=lead.created_at
    )
