"""The one place a lead's stage changes.

The arrows are the glossary's lifecycle. `lead_move` refuses any other move and writes the
stage-change event in the caller's transaction, so a stage never changes without its record.
Pages ask `moves_from` which moves to offer; they never list stages themselves.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from leads.clock import CLOCK_FIELDS, clocks_start
from leads.events import BatchEvent, event_save, events_record, new_stage_changed
from leads.models import Lead, LeadEvent, Stage
from leads.signals import reps_freed
from portal.errors import Conflict
from portal.sql import instances_save, values_execute

TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.CAPTURED: frozenset({Stage.QUALIFIED, Stage.DISQUALIFIED}),
    # Nurture: kept, and back in the funnel as soon as the lead qualifies.
    Stage.DISQUALIFIED: frozenset({Stage.QUALIFIED}),
    Stage.RECYCLED: frozenset({Stage.QUALIFIED}),
    Stage.QUALIFIED: frozenset({Stage.ROUTED}),
    Stage.ROUTED: frozenset({Stage.ACCEPTED, Stage.REJECTED}),
    # Every stage a rep works has a way out: lost (with a reason) or nurture (recycled,
    # with a return date), besides the step forward.
    Stage.ACCEPTED: frozenset({Stage.CONTACTED, Stage.LOST, Stage.RECYCLED}),
    # Sent back to marketing: nurtured, or re-routed to another rep.
    Stage.REJECTED: frozenset({Stage.RECYCLED, Stage.ROUTED}),
    Stage.CONTACTED: frozenset({Stage.OPPORTUNITY, Stage.LOST, Stage.RECYCLED}),
    Stage.OPPORTUNITY: frozenset({Stage.WON, Stage.LOST, Stage.RECYCLED}),
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
    """Move a locked `lead` to `to` and record why. `extra_fields` are saved in the same UPDATE;
    so is the service-level clock, which the move starts or stops (`leads.clock`)."""
    freed = _freed([lead], to)
    event = lead_moved(lead=lead, to=to, by=by, reason=reason, reason_code=reason_code, data=data)
    clocks_start([lead], at=lead.stage_changed_at)
    fields = dict.fromkeys(["stage", "stage_changed_at", "updated_at", *CLOCK_FIELDS])
    lead.save(update_fields=[*fields, *(f for f in extra_fields if f not in fields)])
    _say_freed(freed)
    return event_save(event)


def _freed(leads: Iterable[Lead], to: str) -> set[int]:
    """The reps whose open load these leads leave by moving to `to`."""
    if to in OPEN_STAGES:
        return set()
    return {lead.owner_id for lead in leads if lead.owner_id and lead.stage in OPEN_STAGES}


def _say_freed(rep_ids: set[int]) -> None:
    if rep_ids:
        reps_freed.send(sender=Lead, rep_ids=sorted(rep_ids))


def lead_moved(
    *,
    lead: Lead,
    to: Stage,
    by=None,
    reason: str,
    reason_code: str = "",
    data: dict | None = None,
    at: datetime | None = None,
) -> BatchEvent:
    """The same move on a locked lead in memory, for a batch that writes many leads at once.

    Returns the stage-change event unsaved, a row (`event_save` writes one alone); the
    caller starts the leads' clocks (`leads.clock.clocks_start`, one read for the batch),
    saves the leads (`leads_save`, with `CLOCK_FIELDS`) and the events (`events_record`) in
    the transaction that locked them.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A lead moves inside the transaction that locks it.")
    if not can_move(lead.stage, to):
        raise IllegalMove(lead, to)
    now = at or timezone.now()
    from_stage = lead.stage
    lead.stage = to
    lead.stage_changed_at = now
    lead.updated_at = now
    return new_stage_changed(
        lead=lead,
        from_stage=from_stage,
        by=by,
        reason=reason,
        at=now,
        reason_code=reason_code,
        data=data,
    )


def leads_save(leads: Iterable[Lead], fields: Sequence[str]) -> None:
    """Save `fields` of many leads with one statement: on PostgreSQL an `UPDATE ... FROM
    (VALUES ...)` (`portal.sql.instances_save`), elsewhere one UPDATE per distinct set of
    values.

    `bulk_update`'s one CASE per row and field cost more CPU than the whole batch's judging;
    grouping by values made one UPDATE per distinct score (dozens per re-scoring chunk).
    """
    leads = list({lead.pk: lead for lead in leads}.values())
    if not leads:
        return
    if connection.vendor == "postgresql":
        instances_save(leads, fields)
        return
    columns = [Lead._meta.get_field(name) for name in fields]
    groups: dict[tuple, list[int]] = defaultdict(list)
    for lead in leads:
        groups[tuple(getattr(lead, column.attname) for column in columns)].append(lead.pk)
    for values, pks in groups.items():
        names = [column.attname for column in columns]
        Lead.objects.filter(pk__in=pks).update(**dict(zip(names, values, strict=True)))


def leads_scores_save(scores: dict[int, int], *, at: datetime) -> None:
    """Set many locked leads' scores (lead id: score) and `updated_at`, without their models:
    `leads_save` for a batch that read the leads as plain rows (a re-scoring)."""
    if not scores:
        return
    if connection.vendor == "postgresql":
        values_execute(
            f"UPDATE {Lead._meta.db_table} AS l "  # noqa: S608 - our table's name
            "SET score = v.score, updated_at = v.at "
            "FROM (VALUES %s) AS v(id, score, at) WHERE l.id = v.id",
            [(pk, score, at) for pk, score in scores.items()],
            template="(%s::bigint, %s::integer, %s::timestamptz)",
        )
        return
    groups: dict[int, list[int]] = defaultdict(list)
    for pk, score in scores.items():
        groups[score].append(pk)
    for score, pks in groups.items():
        Lead.objects.filter(pk__in=pks).update(score=score, updated_at=at)


# An import tells what became of a lead before LeadBridge knew it. It records the outcome
# alone, dated when it happened, and only on a lead no rep is working: a live lead's history
# is never overwritten. The handoff routes only qualified leads, so a lead with an outcome
# never reaches an inbox.
HISTORIC_OUTCOMES = frozenset({Stage.WON, Stage.LOST, Stage.REJECTED})
BEFORE_SALES = frozenset({Stage.CAPTURED, Stage.DISQUALIFIED, Stage.QUALIFIED, Stage.RECYCLED})


def lead_record_outcome(
    *,
    lead: Lead,
    to: Stage,
    at: datetime,
    by,
    reason: str,
    reason_code: str = "",
    data: dict | None = None,
) -> LeadEvent:
    """Record on a locked `lead` an outcome reached at `at`, in the past, outside LeadBridge."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lead_record_outcome must run inside the transaction that locks it.")
    if to not in HISTORIC_OUTCOMES or lead.stage not in BEFORE_SALES:
        raise IllegalMove(lead, to)
    if at > timezone.now():
        raise ValueError("An outcome from history cannot be dated in the future.")
    from_stage = lead.stage
    lead.stage = to
    lead.stage_changed_at = at
    lead.route_due_at = None
    lead.save(update_fields=["stage", "stage_changed_at", "route_due_at", "updated_at"])
    event = new_stage_changed(
        lead=lead,
        from_stage=from_stage,
        by=by,
        reason=reason,
        at=at,
        reason_code=reason_code,
        data={"historic": True, **(data or {})},
    )
    return event_save(event)


def leads_keep_from_reps(*, leads: list[Lead], reason: str, data: dict) -> list[BatchEvent]:
    """Qualified leads (locked) that an import said not to hand to reps go to nurture
    (recycled) instead of a queue, each with its stage event, in the caller's transaction.

    Not one of the arrows people take (no page offers it, `moves_from` does not list it): only
    the handoff makes this move, as only an import makes `lead_record_outcome`'s. A form post
    of the lead's own later brings it back to sales (recycled -> qualified -> routed).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("leads_keep_from_reps must run inside the transaction that locks.")
    for lead in leads:
        if lead.stage != Stage.QUALIFIED:
            raise IllegalMove(lead, Stage.RECYCLED)
    now = timezone.now()
    events = []
    for lead in leads:
        lead.stage, lead.stage_changed_at, lead.updated_at = Stage.RECYCLED, now, now
        events.append(
            new_stage_changed(
                lead=lead, from_stage=Stage.QUALIFIED, by=None, reason=reason, at=now, data=data
            )
        )
    clocks_start(leads, at=now)
    leads_save(leads, ["stage", "stage_changed_at", "updated_at", *CLOCK_FIELDS])
    events_record(events)
    return events


def leads_move(
    *,
    leads: list[Lead],
    to: Stage,
    reasons: dict[int, str],
    by=None,
    extra_fields: tuple[str, ...] = (),
) -> list[BatchEvent]:
    """`lead_move` for many locked leads at once (a re-scoring), in the caller's transaction:
    a few UPDATEs (`leads_save`) and one INSERT of the events. All or nothing: one lead that
    cannot make the move refuses the whole batch."""
    for lead in leads:
        if not can_move(lead.stage, to):
            raise IllegalMove(lead, to)
    now = timezone.now()
    freed = _freed(leads, to)
    events = [
        lead_moved(lead=lead, to=to, by=by, reason=reasons[lead.pk], at=now) for lead in leads
    ]
    clocks_start(leads, at=now)
    fields = dict.fromkeys(["stage", "stage_changed_at", "updated_at", *CLOCK_FIELDS])
    leads_save(leads, [*fields, *(f for f in extra_fields if f not in fields)])
    events_record(events)
    _say_freed(freed)
    return events
