"""Every figure of the shared dashboard, read with aggregate queries.

One `Filters` value selects the leads (by the lead's own date: an imported lead keeps the
date its file gave it); each panel is one selector over `facts_for(filters)`, returning plain
rows that the page, its charts and the CSV export all show unchanged.

How far a lead went is read from its stage-change events. A stage an event records proves
every stage before it on the way to a win (`PROVES`): a lead rejected by a rep was routed and
qualified; an outcome imported from history (won, lost, rejected, written by
`lead_record_outcome` with no events before it) counts as having passed the stages before it.
What the events prove, and the lead's own columns the filters read, come from `LeadFacts`
(one narrow row per lead, recounted after every change: `portal.dashboard.facts`), so a panel
reads one row per lead, not the lead and its six events. Every selector that reads them folds
the leads marked since first (`facts_fresh`: one query when none is), so it counts every
change committed before it read.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from itertools import pairwise

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncWeek
from django_celery_beat.models import PeriodicTask

from leads.capture.models import Form
from leads.lifecycle import OPEN_STAGES
from leads.models import Lead, LeadEvent, LostReason, RejectionReason, Stage
from leads.routing.models import Assignment
from leads.routing.selectors import fair_shares_by_day, ledger_by_day
from portal.accounts.models import User
from portal.dashboard.facts import facts_fresh
from portal.dashboard.models import LeadFacts
from scoring.models import Agreement, Criterion

STAGE_CHANGED = LeadEvent.Kind.STAGE_CHANGED

# The way to a win, in order, after `captured` (every lead).
MAIN_STAGES = [
    Stage.QUALIFIED,
    Stage.ROUTED,
    Stage.ACCEPTED,
    Stage.CONTACTED,
    Stage.OPPORTUNITY,
    Stage.WON,
]
# The furthest main stage (1 = qualified ... 6 = won) that an event into a stage proves.
PROVES: dict[str, int] = {
    Stage.QUALIFIED: 1,
    Stage.ROUTED: 2,
    Stage.REJECTED: 2,  # only a routed lead is rejected
    Stage.ACCEPTED: 3,
    Stage.CONTACTED: 4,
    Stage.OPPORTUNITY: 5,
    Stage.LOST: 5,  # only an opportunity is lost
    Stage.WON: 6,
}
SIDE_EXITS = [Stage.DISQUALIFIED, Stage.REJECTED, Stage.RECYCLED, Stage.LOST]
REASON_LABELS = {
    Stage.REJECTED: dict(RejectionReason.choices),
    Stage.LOST: dict(LostReason.choices),
}
# Every reason code a move there may carry ("" = none given), and the facts column keeping
# the codes of a lead's moves there.
REASON_CODES = {stage: ["", *labels] for stage, labels in REASON_LABELS.items()}
REASON_COLUMNS = {Stage.REJECTED: "rejected_reasons", Stage.LOST: "lost_reasons"}


def _went_for(stage: str, code: str) -> Q:
    """Facts of leads that moved to `stage` (rejected, lost) with reason `code`. Only a lead
    that went there has codes there (`LeadFacts.rejected_reasons`), so its flag comes first:
    it spares every other lead the text search (a quarter of the funnel's query)."""
    return Q(**{stage: True, f"{REASON_COLUMNS[stage]}__contains": f",{code},"})


# Speed-to-lead distribution buckets, in seconds: [start, end).
BUCKETS = [
    ("under 5 min", 0, 5 * 60),
    ("5-15 min", 5 * 60, 15 * 60),
    ("15-60 min", 15 * 60, 3600),
    ("1-4 h", 3600, 4 * 3600),
    ("4-24 h", 4 * 3600, 24 * 3600),
    ("1-3 days", 24 * 3600, 72 * 3600),
    ("over 3 days", 72 * 3600, None),
]


@dataclass(frozen=True)
class Filters:
    """Which leads a panel counts. Every field empty: all leads."""

    since: datetime | None = None
    until: datetime | None = None
    form: int | None = None
    campaign: str = ""
    source: str = ""
    queue: int | None = None
    rep: int | None = None


def facts_for(filters: Filters) -> QuerySet[LeadFacts]:
    """The facts of the leads the filters select (one narrow row per lead, `LeadFacts`), every
    change committed before this call folded in."""
    facts_fresh()
    return _filtered(LeadFacts.objects.order_by(), filters, form="form_id", source="source")


def campaigns() -> list[str]:
    """Every campaign leads came with, in order: a skip along the facts' campaign index, one
    probe a campaign (a DISTINCT read every lead)."""
    facts_fresh()
    table = LeadFacts._meta.db_table
    sql = f"""
        WITH RECURSIVE found(campaign) AS (
            SELECT min(campaign) FROM {table} WHERE campaign > ''
            UNION ALL
            SELECT (SELECT min(campaign) FROM {table} WHERE campaign > found.campaign)
            FROM found WHERE found.campaign IS NOT NULL
        )
        SELECT campaign FROM found WHERE campaign IS NOT NULL
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [campaign for (campaign,) in cursor.fetchall()]


def leads_for(filters: Filters) -> QuerySet[Lead]:
    """The leads themselves (for lists of leads and what only the lead row has: due times)."""
    if filters.source:  # read from their facts
        facts_fresh()
    return _filtered(
        Lead.objects.order_by(), filters, form="source_form_id", source="facts__source"
    )


def _filtered(rows: QuerySet, filters: Filters, *, form: str, source: str) -> QuerySet:
    """`rows` (leads or their facts) narrowed by every filter given; `form` and `source` name
    the fields those two read, the others are named alike on both."""
    wanted = {
        "created_at__gte": filters.since,
        "created_at__lt": filters.until,
        form: filters.form,
        "campaign": filters.campaign,
        "queue_id": filters.queue,
        "owner_id": filters.rep,
        source: filters.source,
    }
    return rows.filter(**{lookup: value for lookup, value in wanted.items() if value})


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# What one pass over the facts counts, per group of leads (each a count of leads, so groups
# add up): the funnel's stages, side exits and their reasons; lead quality reads the same.
LEAD_COUNTS = {
    "captured": Q(),
    **{f"reached_{rank}": Q(furthest__gte=rank) for rank in range(1, len(MAIN_STAGES) + 1)},
    **{f"exit_{stage}": Q(**{stage: True}) for stage in SIDE_EXITS},
    **{
        f"{stage}__{code}": _went_for(stage, code)
        for stage, codes in REASON_CODES.items()
        for code in codes
    },
}


def lead_counts(*, filters: Filters, fields: Sequence[str] = ()) -> list[dict]:
    """`LEAD_COUNTS` of the leads in view per group of `fields` (none: one row for all): one
    pass over the facts, which the page shares between the funnel and lead quality."""
    return _lead_counts(facts_for(filters), fields)


def _lead_counts(facts: QuerySet[LeadFacts], fields: Sequence[str]) -> list[dict]:
    counts = {name: Count("pk", filter=when or None) for name, when in LEAD_COUNTS.items()}
    if not fields:
        return [facts.aggregate(**counts)]
    return list(facts.values(*fields).annotate(**counts).order_by())


def _summed(groups: list[dict]) -> dict[str, int]:
    return {name: sum(group[name] for group in groups) for name in LEAD_COUNTS}


def funnel(*, filters: Filters, groups: list[dict] | None = None) -> dict:
    """Leads that reached or passed each stage, the conversion from the stage before, and
    the side exits (leads that ever went there, by reason). One query, or none given the
    `lead_counts` of these filters grouped any way (`groups`)."""
    # A lead reached stage N when its events prove N or later; it left by an exit when one
    # of its events went there.
    counts = _summed(lead_counts(filters=filters) if groups is None else groups)
    captured = counts["captured"]
    stages = [{"stage": Stage.CAPTURED, "label": "Captured", "reached": captured}]
    for rank, stage in enumerate(MAIN_STAGES, start=1):
        reached = counts[f"reached_{rank}"]
        stages.append({"stage": stage, "label": Stage(stage).label, "reached": reached})
    for before, row in pairwise(stages):
        row["conversion"] = _share(row["reached"], before["reached"])
    stages[0]["conversion"] = None

    totals = {stage: counts[f"exit_{stage}"] for stage in SIDE_EXITS}
    reasons = [
        (stage, code, counts[f"{stage}__{code}"])
        for stage, codes in REASON_CODES.items()
        for code in codes
        if counts[f"{stage}__{code}"]
    ]
    by_reason: dict[str, list[dict]] = {stage: [] for stage in REASON_LABELS}
    for stage, code, n in sorted(reasons, key=lambda r: (r[0], -r[2], r[1])):
        label = REASON_LABELS[stage].get(code, "No reason given")
        by_reason[stage].append({"code": code, "label": label, "leads": n})
    side = [
        {
            "stage": stage,
            "label": Stage(stage).label,
            "leads": totals.get(stage, 0),
            "reasons": by_reason.get(stage, []),
        }
        for stage in SIDE_EXITS
    ]
    return {"stages": stages, "exits": side, "captured": captured}


# Speed to lead.


class Seconds(Func):
    """`end - start` in seconds, as a float (NULL if either is)."""

    arity = 2
    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        # date_part gives a float; EXTRACT a numeric since PostgreSQL 14, whose arithmetic,
        # comparisons and sorts cost the speed panel 40 % more at a million leads.
        return self.as_sql(
            compiler, connection, template="date_part('epoch', %(expressions)s)", arg_joiner=" - "
        )

    def as_sqlite(self, compiler, connection, **extra):
        # A julianday is a float of days: its difference is off by some microseconds (five
        # minutes read 299.99999 s, in the bucket below); to the millisecond it is exact.
        return self.as_sql(
            compiler,
            connection,
            template="round((julianday(%(expressions)s)) * 86400.0, 3)",
            arg_joiner=") - julianday(",
        )


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation between the two nearest)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont in Python, for SQLite (the demo): the same interpolation."""
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    position = fraction * (len(values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


SPEED_MEASURES = [
    ("first_action", "Submission → first rep action"),
    ("first_contact", "Submission → first contact"),
    ("routing", "Our routing: submission → routed"),
    ("rep", "The rep: routed → first action"),
]


def _with_timings(facts: QuerySet[LeadFacts]) -> QuerySet[LeadFacts]:
    # First routed, first contact (a contact logged or a move to contacted): kept in the facts.
    return facts.annotate(
        first_action=Seconds(F("first_action_at"), F("created_at")),
        first_contact=Seconds(F("contacted_at"), F("created_at")),
        routing=Seconds(F("routed_at"), F("created_at")),
        rep=Seconds(F("first_action_at"), F("routed_at")),
    )


def _speed_figures(timed: QuerySet[LeadFacts], names: list[str]) -> dict:
    """Count, median and p90 of each timing, and the leads in each bucket of time to first
    action (`b0`...): one query on PostgreSQL; SQLite (the demo) reads the timings and
    counts them in Python."""
    if connection.vendor != "postgresql":
        return _speed_figures_counted(timed, names)
    # Each timing worked out once a row, in a subquery the planner keeps apart (OFFSET 0):
    # inlined, every reference to it (its count, its percentiles, each bucket's two bounds)
    # computed `date_part` again, about twenty times a lead.
    window, params = timed.values(*names).query.sql_with_params()
    columns = []
    for name in names:
        columns += [
            f"count(w.{name})",
            f"percentile_cont(ARRAY[0.5, 0.9]::float8[]) WITHIN GROUP (ORDER BY w.{name})",
        ]
    for _, start, end in BUCKETS:
        below = "" if end is None else f" AND w.first_action < {end}"
        columns.append(f"count(*) FILTER (WHERE w.first_action >= {start}{below})")
    sql = f"SELECT {', '.join(columns)} FROM ({window} OFFSET 0) w"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = iter(cursor.fetchone())
    figures = {}
    for name in names:
        figures[f"{name}_n"] = next(found)
        # NULL, not an array of NULLs, when no lead has the timing.
        figures[f"{name}_p50"], figures[f"{name}_p90"] = next(found) or (None, None)
    for i in range(len(BUCKETS)):
        figures[f"b{i}"] = next(found)
    return figures


def _speed_figures_counted(timed: QuerySet[LeadFacts], names: list[str]) -> dict:
    """`_speed_figures` in Python: percentile_cont's interpolation (`percentile`)."""
    columns = list(zip(*timed.values_list(*names), strict=True)) or [[] for _ in names]
    figures = {}
    for name, values in zip(names, columns, strict=True):
        present = [v for v in values if v is not None]
        figures[f"{name}_n"] = len(present)
        figures[f"{name}_p50"] = percentile(present, 0.5)
        figures[f"{name}_p90"] = percentile(present, 0.9)
    acted = [v for v in columns[names.index("first_action")] if v is not None]
    for i, (_, start, end) in enumerate(BUCKETS):
        figures[f"b{i}"] = sum(1 for v in acted if v >= start and (end is None or v < end))
    return figures


def speed_to_lead(*, filters: Filters) -> dict:
    """Median and p90 of each timing with its distribution (one query), and its weekly
    trend (one query)."""
    timed = _with_timings(facts_for(filters))
    names = [name for name, _ in SPEED_MEASURES]
    figures = _speed_figures(timed, names)
    measures = [
        {
            "measure": name,
            "label": label,
            "leads": figures[f"{name}_n"],
            "median": figures[f"{name}_p50"],
            "p90": figures[f"{name}_p90"],
        }
        for name, label in SPEED_MEASURES
    ]
    distribution = [
        {"bucket": label, "leads": figures[f"b{i}"]} for i, (label, _, _) in enumerate(BUCKETS)
    ]
    return {"measures": measures, "distribution": distribution, "weekly": _weekly(timed)}


def _weekly(timed: QuerySet[LeadFacts]) -> list[dict]:
    """Per week of submission: leads acted on, median and p90 to first action."""
    acted = timed.filter(first_action_at__isnull=False).annotate(week=TruncWeek("created_at"))
    if connection.vendor == "postgresql":
        rows = (
            acted.values("week")
            .annotate(
                # The acted-on leads, counted on a column the window's index holds (its
                # pk is not), so the trend reads the index alone, as the figures do.
                leads=Count("first_action_at"),
                median=PercentileCont(F("first_action"), 0.5),
                p90=PercentileCont(F("first_action"), 0.9),
            )
            .order_by("week")
        )
        return [{**row, "week": row["week"].date()} for row in rows]
    weeks: dict = {}
    for week, seconds in acted.values_list("week", "first_action"):
        weeks.setdefault(week, []).append(seconds)
    return [
        {
            "week": week.date(),
            "leads": len(values),
            "median": percentile(values, 0.5),
            "p90": percentile(values, 0.9),
        }
        for week, values in sorted(weeks.items())
    ]


# Lead quality by source.

# (label, the facts field its groups are counted by). Forms by id, named after the count (a
# join to the forms a lead cost the page's two grouped queries a sixth of their time).
DIMENSIONS = {
    "form": ("Form", "form_id"),
    "campaign": ("Campaign", "campaign"),
    "source": ("Source", "source"),
}


def quality_by(*, filters: Filters, dimension: str) -> list[dict]:
    """Per form, campaign or source: volume, qualification, acceptance, rejection and win
    rates, the most frequent rejection reason and the criteria failed most. Three queries
    (four by form: its names)."""
    return quality_by_each(filters=filters, dimensions=[dimension])[dimension]


def quality_by_each(
    *, filters: Filters, dimensions: list[str], groups: list[dict] | None = None
) -> dict[str, list[dict]]:
    """`quality_by` for each of `dimensions` at once, from one pass over the facts: the
    counts are grouped by every dimension's field together (a few hundred groups: forms x
    campaigns x sources; `groups`: those `lead_counts`, if read already), then each group's
    counts added up per dimension; the criteria failed most alike. Four queries (the counts,
    unless given `groups`; the criteria failed, their labels, the forms' names), however
    many dimensions (the page reads all three)."""
    facts = facts_for(filters)
    fields = [DIMENSIONS[dimension][1] for dimension in dimensions]
    if groups is None:
        groups = _lead_counts(facts, fields)
    named = _form_namer(fields, {group.get("form_id") for group in groups})
    named_groups = []
    for group in groups:
        keys = named(tuple(group[field] for field in fields))
        if keys is not None:
            named_groups.append(group | dict(zip(fields, keys, strict=True)))
    failing = _criteria_failed_most(facts, fields, named)
    return {
        dimension: _quality_rows(named_groups, field, failing[field])
        for dimension, field in zip(dimensions, fields, strict=True)
    }


def _quality_rows(groups: list[dict], field: str, failing: dict[str, str]) -> list[dict]:
    """The groups' counts added up by `field`, as the panel's rows, most leads first."""
    summed: dict[str, dict] = {}
    for group in groups:
        row = summed.setdefault(group[field], {})
        for name in LEAD_COUNTS:
            row[name] = row.get(name, 0) + group[name]
    ordered = sorted(summed.items(), key=lambda item: (-item[1]["captured"], item[0]))
    return [
        {
            "key": key or "(none)",
            "volume": row["captured"],
            "qualified": row["reached_1"],
            "qualification_rate": _share(row["reached_1"], row["captured"]),
            "accepted": row["reached_3"],
            "acceptance_rate": _share(row["reached_3"], row["reached_2"]),
            "rejected": row[f"exit_{Stage.REJECTED}"],
            "top_rejection": _top_rejection(row),
            "won": row["reached_6"],
            "win_rate": _share(row["reached_6"], row["reached_1"]),
            "failed_most": failing.get(key, ""),
        }
        for key, row in ordered
    ]


def _listed(facts: QuerySet[LeadFacts], column: str, keys: Sequence[str] = ()) -> dict[tuple, int]:
    """{((group...), item): how often} of the items of a comma-separated facts `column` over
    these rows, per group of the `keys` fields' values (none: one group, `()`): one query.
    The rows are counted per distinct list (a few hundred: the leads' lists repeat), then
    the lists split here; splitting every row's list in SQL cost a third more."""
    lists = facts.values(*keys, column).annotate(n=Count("pk")).order_by()
    counted: dict[tuple, int] = {}
    for row in lists:
        group = tuple(row[key] for key in keys)
        for item in filter(None, row[column].split(",")):
            counted[group, item] = counted.get((group, item), 0) + row["n"]
    return counted


def _form_namer(fields: list[str], forms: set) -> Callable[[tuple], tuple | None]:
    """A group's keys (its values of `fields`) with the form id as the form's name, or None
    for a group whose form is gone (as a join to the forms would leave it out)."""
    if "form_id" not in fields:
        return lambda keys: keys
    at = fields.index("form_id")
    names = dict(Form.objects.filter(pk__in=forms).values_list("pk", "name"))

    def named(keys: tuple) -> tuple | None:
        if keys[at] not in names:
            return None
        return (*keys[:at], names[keys[at]], *keys[at + 1 :])

    return named


def _criteria_failed_most(
    facts: QuerySet[LeadFacts], fields: list[str], named: Callable, top: int = 3
) -> dict[str, dict[str, str]]:
    """Per field, per group, the criteria the most leads failed in their judgements in force
    (the facts list them: `LeadFacts.failed_criteria`); `named`: `_form_namer`."""
    counted = _listed(facts, "failed_criteria", fields)
    labels = dict(
        Criterion.objects.filter(pk__in={int(c) for _, c in counted}).values_list("pk", "label")
    )
    found: dict[str, dict[str, dict[str, int]]] = {field: {} for field in fields}
    for (keys, criterion), n in counted.items():
        groups = named(keys)
        if groups is None:
            continue
        for field, group in zip(fields, groups, strict=True):
            failed = found[field].setdefault(group, {})
            failed[criterion] = failed.get(criterion, 0) + n
    return {
        field: {
            group: "; ".join(
                f"{label} ({-n})"
                for n, label in sorted(
                    (-n, labels.get(int(criterion), "")) for criterion, n in failed.items()
                )[:top]
            )
            for group, failed in per_group.items()
        }
        for field, per_group in found.items()
    }


def _top_rejection(row: dict) -> str:
    """The rejection reason most of the group's leads were rejected for ("" if none was)."""
    labels = REASON_LABELS[Stage.REJECTED]
    found = [
        (-row[f"{Stage.REJECTED}__{code}"], labels.get(code, "No reason given"))
        for code in REASON_CODES[Stage.REJECTED]
        if row[f"{Stage.REJECTED}__{code}"]
    ]
    if not found:
        return ""
    n, label = min(found)
    return f"{label} ({-n})"


def _grouped_percentiles(rows: QuerySet, group: str, value: str) -> dict:
    """{group value: (count, median, p90)} of `value` per `group`: one query."""
    if connection.vendor == "postgresql":
        found = (
            rows.values(group)
            .annotate(
                n=Count(value),
                p50=PercentileCont(F(value), 0.5),
                p90=PercentileCont(F(value), 0.9),
            )
            .order_by()
        )
        return {row[group]: (row["n"], row["p50"], row["p90"]) for row in found}
    groups: dict = {}
    for key, seconds in rows.values_list(group, value):
        groups.setdefault(key, [])
        if seconds is not None:
            groups[key].append(seconds)
    return {
        key: (len(values), percentile(values, 0.5), percentile(values, 0.9))
        for key, values in groups.items()
    }


# Service levels.


def overdue_by_queue_and_rep(*, filters: Filters, now: datetime) -> list[dict]:
    """Leads whose service-level clock (`Lead.due_at`) has run out now, per queue and rep.
    Every filter but the period applies: an overdue lead is overdue whenever it came."""
    leads = leads_for(replace(filters, since=None, until=None)).filter(due_at__lt=now)
    rows = (
        leads.values("queue__name", "owner__username", "owner__first_name", "owner__last_name")
        .annotate(
            accept=Count("pk", filter=Q(due_step="accept")),
            contact=Count("pk", filter=Q(due_step="contact")),
        )
        .order_by("queue__name", "owner__username")
    )
    return [
        {
            "queue": row["queue__name"] or "(no queue)",
            "rep": _name(row, "owner") or "(nobody)",
            "accept": row["accept"],
            "contact": row["contact"],
        }
        for row in rows
    ]


# Service-level compliance: each step a lead owed (accept or reject it; contact it first)
# keeps its agreed due time, the rep who held the lead then and when the step was done
# (`Lead.accept_due_at`, `accept_rep`, `accept_met_at`, ... set by `leads.clock`, copied
# into the lead's facts).
COMPLIANCE_STEPS = (("accept", "Accept/reject"), ("contact", "First contact"))


def _step_counts(step: str, now: datetime) -> dict:
    """Steps that fell due or were done by `now` (a step still running and not yet due is
    not judged), and those done by their agreed due time."""
    due, met = f"{step}_due_at", f"{step}_met_at"
    judged = Q(**{f"{due}__isnull": False}) & (
        Q(**{f"{met}__isnull": False}) | Q(**{f"{due}__lte": now})
    )
    in_time = Q(**{f"{met}__isnull": False, f"{met}__lte": F(due)})
    return {
        f"{step}_due": Count("pk", filter=judged),
        f"{step}_in_time": Count("pk", filter=in_time),
    }


def _compliance_row(key: str, counted: dict) -> dict:
    row = {"key": key}
    for step, _ in COMPLIANCE_STEPS:
        due, in_time = counted.get(f"{step}_due", 0), counted.get(f"{step}_in_time", 0)
        row.update(
            {
                f"{step}_due": due,
                f"{step}_in_time": in_time,
                f"{step}_late": due - in_time,
                f"{step}_share": _share(in_time, due),
            }
        )
    return row


def compliance(*, filters: Filters, now: datetime) -> dict[str, list[dict]]:
    """Service levels by queue (`"queue"`) and by rep (`"rep"`): per queue, steps that fell
    due (or were done), done within the agreed time, late, and the share in time, for
    accepting (or rejecting) and for first contact; per rep the same, each step counted
    against the rep who held the lead when it started (a breach stays against them after the
    ladder passes the lead on). Two queries: one pass over the facts grouped by the queue
    and the pair of reps who held the two steps (the same rep mostly: about a hundred
    groups), each group's counts then added to its queue and to each step's rep; the reps'
    names."""
    counts = {}
    for step, _ in COMPLIANCE_STEPS:
        counts.update(_step_counts(step, now))
    # A queue is listed when one of its leads had a step due, a rep when a step started
    # with them (their groups' counts may all be nought).
    owed = Q(accept_due_at__isnull=False) | Q(contact_due_at__isnull=False)
    held = [f"{step}_rep" for step, _ in COMPLIANCE_STEPS]
    groups = (
        facts_for(filters)
        .filter(owed | Q(accept_rep__isnull=False) | Q(contact_rep__isnull=False))
        .values("queue__name", *held)
        .annotate(owed=Count("pk", filter=owed), **counts)
        .order_by("queue__name")
    )
    queues: dict[str | None, dict] = {}
    reps: dict[int, dict] = {}
    steps = [step for step, _ in COMPLIANCE_STEPS]
    for row in groups:
        if row["owed"]:
            _add_counts(queues.setdefault(row["queue__name"], {}), row, steps)
        for step in steps:
            if row[f"{step}_rep"] is not None:
                _add_counts(reps.setdefault(row[f"{step}_rep"], {}), row, [step])
    names = {
        row["pk"]: _name(row, "")
        for row in User.objects.filter(pk__in=reps).values(
            "pk", "username", "first_name", "last_name"
        )
    }
    return {
        "queue": [_compliance_row(name or "(no queue)", n) for name, n in queues.items()],
        "rep": sorted(
            (_compliance_row(names.get(pk, ""), counted) for pk, counted in reps.items()),
            key=lambda row: row["key"].lower(),
        ),
    }


def _add_counts(counted: dict, row: dict, steps: list[str]) -> None:
    for step in steps:
        for count in (f"{step}_due", f"{step}_in_time"):
            counted[count] = counted.get(count, 0) + row[count]


def compliance_by_queue(*, filters: Filters, now: datetime) -> list[dict]:
    """`compliance` by queue (in the queues' order)."""
    return compliance(filters=filters, now=now)["queue"]


def compliance_by_rep(*, filters: Filters, now: datetime) -> list[dict]:
    """`compliance` by rep (in the reps' names' order)."""
    return compliance(filters=filters, now=now)["rep"]


def leads_listed_for(*, user) -> QuerySet[Lead]:
    """The leads a person may see in a list: all for those who see all leads, their own for
    a rep (the inbox's rule, `leads.inbox.selectors.leads_visible_to`, a sibling this app may
    not import; tests/portal/dashboard keeps the two equal)."""
    if user.has_perm("leads.view_all_leads"):
        return Lead.objects.all()
    if user.has_perm("leads.work_lead"):
        return Lead.objects.filter(owner=user)
    return Lead.objects.none()


def overdue_leads(*, filters: Filters, now: datetime, visible: QuerySet[Lead], limit: int = 50):
    """The overdue leads among `visible` (the viewer's own rules), most overdue first."""
    return (
        leads_for(replace(filters, since=None, until=None))
        .filter(due_at__lt=now, pk__in=visible.values("pk"))
        .select_related("owner", "queue")
        .order_by("due_at", "pk")[:limit]
    )


def _name(row: dict, prefix: str) -> str:
    """The full name, else the username, of `prefix__first_name`... in `row` (prefix "":
    `first_name`...)."""
    at = f"{prefix}__" if prefix else ""
    full = f"{row[f'{at}first_name'] or ''} {row[f'{at}last_name'] or ''}".strip()
    return full or row[f"{at}username"] or ""


# The team.


def team(*, filters: Filters) -> list[dict]:
    """Per rep (the lead's owner now): open leads, leads routed to them, accepted, won, win
    rate (won ÷ accepted) and the rep's time from routed to first action. Two queries: the
    figures per owner id (one pass over the facts), the owners' names."""
    timed = _with_timings(facts_for(filters).filter(owner__isnull=False))
    counts = {
        "open": Count("pk", filter=Q(stage__in=OPEN_STAGES)),
        "routed": Count("pk", filter=Q(furthest__gte=2)),
        "accepted": Count("pk", filter=Q(furthest__gte=3)),
        "won": Count("pk", filter=Q(furthest__gte=6)),
    }
    postgresql = connection.vendor == "postgresql"
    if postgresql:
        counts["rep_median"] = PercentileCont(F("rep"), 0.5)
    counted = list(timed.values("owner").annotate(**counts).order_by())
    if not postgresql:
        times = _grouped_percentiles(timed, "owner", "rep")
        for row in counted:
            row["rep_median"] = times.get(row["owner"], (0, None, None))[1]
    names = {
        row["pk"]: row
        for row in User.objects.filter(pk__in=[row["owner"] for row in counted]).values(
            "pk", "first_name", "last_name", "username"
        )
    }
    rows = [
        {
            "rep": _name(names[row["owner"]], ""),
            "open": row["open"],
            "routed": row["routed"],
            "accepted": row["accepted"],
            "won": row["won"],
            "win_rate": _share(row["won"], row["accepted"]),
            "rep_median": row["rep_median"],
            "order": (
                names[row["owner"]]["first_name"],
                names[row["owner"]]["last_name"],
                names[row["owner"]]["username"],
            ),
        }
        for row in counted
        if row["owner"] in names
    ]
    rows.sort(key=lambda row: row.pop("order"))
    return rows


def fair_shares(*, filters: Filters) -> list[dict]:
    """Per rep: the leads in view that queues assigned to them (credited-back ones apart, as
    the routing's fairness ledger counts them) against their fair share: each day, of each
    queue's assignments, their weight's part in a weighted queue, an equal part otherwise,
    among those who were the queue's members that day and not away
    (leads.routing.selectors.fair_shares_by_day). Five queries: the ledger by day, the
    members' spells, the members now, the absences, the names."""
    assignments = Assignment.objects.filter(lead_id__in=facts_for(filters).values("lead_id"))
    if filters.since:
        # Implied (a lead is assigned after it came, an imported one too), and it lets the
        # ledger's (queue, assigned_at) index skip the assignments of older leads.
        assignments = assignments.filter(assigned_at__gte=filters.since)
    ledger = ledger_by_day(assignments)
    received: dict[int, int] = {}
    credited: dict[int, int] = {}
    for row in ledger:
        counted = credited if row["credited"] else received
        counted[row["rep"]] = counted.get(row["rep"], 0) + row["n"]
    expected: dict[int, float] = {}
    for (_, rep_id), share in fair_shares_by_day(ledger).items():
        expected[rep_id] = expected.get(rep_id, 0.0) + share
    reps = set(received) | set(credited) | set(expected)
    names = {
        row["pk"]: _name({f"rep__{k}": v for k, v in row.items()}, "rep")
        for row in User.objects.filter(pk__in=reps).values(
            "pk", "username", "first_name", "last_name"
        )
    }
    rows = [
        {
            "rep": names.get(pk, ""),
            "assigned": received.get(pk, 0),
            "credited": credited.get(pk, 0),
            "fair_share": round(expected.get(pk, 0.0), 1),
            "difference": round(received.get(pk, 0) - expected.get(pk, 0.0), 1),
            "of_fair_share": _share(received.get(pk, 0), expected.get(pk, 0.0)),
        }
        for pk in reps
    ]
    return sorted(rows, key=lambda row: row["rep"].lower())


# Scores.


def score_distribution(*, filters: Filters) -> list[dict]:
    """The current judgements of the leads in view (one per submission), per agreement
    version, score and verdict. Two queries: the judgements listed in the facts
    (`LeadFacts.judgements`), the versions of their agreements."""
    counted = _listed(facts_for(filters), "judgements")
    judged = [(*map(int, item.split(":")), n) for (_, item), n in counted.items()]
    versions = dict(
        Agreement.objects.filter(pk__in={agreement for agreement, *_ in judged}).values_list(
            "pk", "version"
        )
    )
    rows: dict[tuple[int, int], dict] = {}
    for agreement, score, qualified, n in judged:
        version = versions.get(agreement)
        row = rows.setdefault(
            (version, score),
            {"version": version, "score": score, "qualified": 0, "not_qualified": 0},
        )
        row["qualified" if qualified else "not_qualified"] += n
    return sorted(rows.values(), key=lambda row: (-(row["version"] or 0), row["score"]))


# The handoff review's schedule.

# Beat's entry (django_celery_beat; migration dashboard/0004 makes it).
REVIEW_SCHEDULE_NAME = "handoff-review"
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class ReviewSchedule:
    weekday: int  # 0 Monday ... 6 Sunday
    at: time
    zone: str
    enabled: bool

    @property
    def words(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s at {self.at:%H:%M} ({self.zone})"


def review_schedule() -> ReviewSchedule | None:
    """The weekday and time beat runs the review (every other run makes one), or None if
    its entry is gone or is not a weekly time."""
    entry = (
        PeriodicTask.objects.filter(name=REVIEW_SCHEDULE_NAME, crontab__isnull=False)
        .select_related("crontab")
        .first()
    )
    if entry is None:
        return None
    cron = entry.crontab
    if not (cron.day_of_week.isdigit() and cron.hour.isdigit() and cron.minute.isdigit()):
        return None
    return ReviewSchedule(
        weekday=(int(cron.day_of_week) - 1) % 7,
        at=time(int(cron.hour), int(cron.minute)),
        zone=str(cron.timezone),
        enabled=entry.enabled,
    )
