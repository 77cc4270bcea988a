"""The what-if: how the leads of the last N days (or of any dates, years back) come out
under a draft or proposal, against the version it is compared with (by default the active
one).

The leads are those of the forms the draft would judge (its scope), not every form's.
How many qualify under each; which criteria fail the most leads under each; and for the
leads that would change side, what sales did with them (scoring.history states the rates).
One query reads the leads: a server-side cursor, 5,000 rows at a time, the next 5,000 fetched
in a thread while these are judged; only the attributes the criteria read when that pays.
The criteria of both versions, each distinct one once, are compiled once per form's
placeholders and give each lead a row of pass flags; the leads are counted by row (a few
hundred distinct rows at most), each row is judged by both versions once; then one query per
5,000 leads that change side reads their history: never one query per lead.

A lead is judged as it was when it came in: its attributes now, "submitted within N days"
counted from its arrival (so it passes), "answered on the form" read as "is not blank".
"""

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, F, Func, JSONField, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from portal.sql import rows_read_ahead
from scoring import engine, explain
from scoring.history import Outcomes, histories, period_words
from scoring.judging import Judge, Panel, form_placeholders
from scoring.models import Agreement
from scoring.selectors import attribute_keys, leads_in_scope

DEFAULT_DAYS = 90
DAY_CHOICES = (30, 60, 90, 180, 365)
_CHUNK = 5000


@dataclass(frozen=True)
class Failures:
    """How many leads one criterion failed (a scoring criterion: gave no points to)."""

    label: str
    words: str
    mandatory: bool
    failed: int
    share: float


@dataclass
class Count:
    """One version's judgement of the leads."""

    agreement: Agreement
    leads: int = 0
    qualified: int = 0
    failed_mandatory: int = 0  # failed at least one mandatory criterion
    below_threshold: int = 0  # passed every mandatory one, scored too little
    failures: list[Failures] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return self.qualified / self.leads if self.leads else None


@dataclass
class WhatIf:
    days: int | None  # the last N days; None for dates given (`since`, `until`)
    since: datetime | None  # None: from the first lead
    leads: int
    forms: str  # the forms whose leads were judged, in words
    proposal: Count
    against: Count | None
    gained: Outcomes  # qualify under the proposal, not under the version compared with
    dropped: Outcomes  # the reverse
    seconds: float
    until: datetime | None = None  # None: up to now

    @property
    def period(self) -> str:
        return period_words(self.days, self.since, self.until)

    @property
    def changed(self) -> int:
        return self.gained.leads + self.dropped.leads


def whatif(
    *,
    proposal: Agreement,
    against: Agreement | None,
    days: int | None = DEFAULT_DAYS,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> WhatIf:
    """The leads of `proposal`'s forms created in the last `days` days (with `days` None:
    between `since` and `until`, either open; an imported lead keeps its own date), judged by
    `proposal` and by `against`."""
    started = time.perf_counter()
    if days is not None:
        since, until = (now or timezone.now()) - timedelta(days=days), None
    panel = Panel([Judge(proposal)] + ([Judge(against)] if against is not None else []))
    leads = leads_in_scope(agreement=proposal)
    if since is not None:
        leads = leads.filter(created_at__gte=since)
    if until is not None:
        leads = leads.filter(created_at__lt=until)
    seen: dict[tuple, list] = {}  # flags → [leads, gained or dropped or None]
    changers: list[list[tuple[int, str]]] = [[], []]  # gained, dropped
    functions: dict[int, Callable] = {}
    blanks = form_placeholders()  # before the read: the connection is the read's until it ends
    with _rows(leads, panel) as rows:
        for pk, stage, form_id, attributes, created_at in rows:
            function = functions.get(form_id)
            if function is None:
                function = functions[form_id] = panel.flags(blanks.get(form_id, frozenset()))
            flags = function(attributes, created_at)
            found = seen.get(flags)
            if found is None:
                found = seen[flags] = [0, _side(panel, flags, changers)]
            found[0] += 1
            if found[1] is not None:
                found[1].append((pk, stage))
    patterns: list[Counter] = [Counter() for _ in panel.judges]
    for flags, (leads_seen, _changers) in seen.items():
        for counted, passed in zip(patterns, panel.passed(flags), strict=True):
            counted[passed] += leads_seen
    total = sum(leads_seen for leads_seen, _changers in seen.values())
    counts = [
        _count(judge, found, total) for judge, found in zip(panel.judges, patterns, strict=True)
    ]
    groups = [_outcomes(group) for group in changers]
    return WhatIf(
        days=days,
        since=since,
        leads=total,
        forms=proposal.form_ids_words(),
        proposal=counts[0],
        against=counts[1] if len(counts) > 1 else None,
        gained=groups[0],
        dropped=groups[1],
        seconds=time.perf_counter() - started,
        until=until,
    )


def _side(panel: Panel, flags: tuple[bool, ...], changers: list[list]) -> list | None:
    """The list the leads with these flags go to: gained, dropped, or None (no change)."""
    qualified = panel.qualified(flags)
    if len(qualified) == 1 or qualified[0] == qualified[1]:
        return None
    return changers[0 if qualified[0] else 1]


# json_build_array takes at most 100 arguments.
_PICKED_MAX = 100


def _picks(keys: list[str]) -> bool:
    """Whether to read only these attributes rather than the whole of them.

    Picking costs the server a lookup per key and lead; reading the whole JSON costs this
    process the decoding of keys no criterion reads. Measured on 100,000 leads whose criteria
    read all 11 keys, the whole JSON was faster (2.0 s of CPU against 2.4 s): pick only when
    the criteria read at most half the attributes forms ask for.
    """
    if connection.vendor != "postgresql" or len(keys) > _PICKED_MAX:
        return False
    return len(keys) * 2 <= len(attribute_keys())


@contextmanager
def _rows(leads, panel: Panel) -> Iterator[Iterator[tuple[int, str, int, Any, datetime | None]]]:
    """(id, stage, form, attributes, created at) of each lead, 5,000 rows a fetch, the next
    5,000 on their way while these are judged (`rows_read_ahead`).

    When it pays (`_picks`), only the attributes some criterion reads leave the database, as
    one JSON array a lead (an array of values costs the server less than an object of them),
    made into a dict here: the engine only asks `attributes.get(key)`, so a key missing and
    a key null judge alike. The time of creation is read only if a criterion needs it.
    """
    keys = panel.keys
    picked = _picks(keys)
    if picked:
        attributes = Func(
            *(_Key(key) for key in keys),
            function="json_build_array",
            template="%(function)s(%(expressions)s)::text",  # decoded here, as the driver may not
            output_field=TextField(),
        )
    else:
        attributes = Cast("attributes", TextField())  # decoded here, without the ORM's converter
    at = F("created_at") if panel.needs_submission else Value(None, output_field=DateTimeField())
    # In no order: ordered by time, a cursor walks the index and reads the table at random.
    rows = (
        leads.order_by()
        .annotate(picked=attributes, at=at)
        .values_list("pk", "stage", "source_form_id", "picked", "at")
    )
    with rows_read_ahead(rows, chunk_size=_CHUNK) as read:
        yield _decoded(read, keys if picked else None)


def _decoded(rows, keys: list[str] | None) -> Iterator[tuple]:
    loads = _loads
    if keys is None:
        for pk, stage, form_id, attributes, created_at in rows:
            yield pk, stage, form_id, loads(attributes), created_at
        return
    for pk, stage, form_id, values, created_at in rows:
        yield pk, stage, form_id, dict(zip(keys, loads(values), strict=True)), created_at


_raw_decode = json.JSONDecoder().raw_decode


def _loads(text: str) -> Any:
    """json.loads without its two layers of checks around the decoder (a tenth of the
    what-if's CPU): PostgreSQL writes nothing before or after the JSON; anything else is
    left to json.loads, which decodes or raises as ever."""
    try:
        value, end = _raw_decode(text)
    except ValueError:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


class _Key(Func):
    """attributes -> 'key' (not ->>: a number, a list or true stay what they are)."""

    template = "(%(expressions)s)"
    arg_joiner = " -> "
    output_field = JSONField()

    def __init__(self, key: str):
        super().__init__(F("attributes"), Value(key))


def _count(judge: Judge, patterns: Counter, total: int) -> Count:
    count = Count(agreement=judge.agreement, leads=total)
    failed = [0] * len(judge.rules)
    for passed, leads in patterns.items():
        mandatory, score = judge.mandatory_and_score(passed)
        if not mandatory:
            count.failed_mandatory += leads
        elif score < judge.threshold:
            count.below_threshold += leads
        else:
            count.qualified += leads
        for i, ok in enumerate(passed):
            if not ok:
                failed[i] += leads
    count.failures = sorted(
        (
            Failures(
                label=rule.label,
                words=explain.clause(rule),
                mandatory=rule.kind == engine.MANDATORY,
                failed=fails,
                share=fails / total if total else 0.0,
            )
            for rule, fails in zip(judge.rules, failed, strict=True)
        ),
        key=lambda failures: (not failures.mandatory, -failures.failed),
    )
    return count


def _outcomes(leads: list[tuple[int, str]]) -> Outcomes:
    found = histories(leads)
    outcomes = Outcomes()
    for pk, _stage in leads:
        outcomes.add(found.get(pk))
    return outcomes
