"""The what-if: how the leads of the last N days come out under a draft or proposal, against
the version it is compared with (by default the active one).

The leads are those of the forms the draft would judge (its scope), not every form's.
How many qualify under each; which criteria fail the most leads under each; and for the
leads that would change side, what sales did with them (scoring.history states the rates).
One query reads the leads: a server-side cursor, 5,000 rows at a time, the next 5,000 fetched
in a thread while these are judged; on PostgreSQL only the values the criteria read, as texts.
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

from django.db import connection
from django.db.models import DateTimeField, F, Func, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from portal.sql import rows_read_ahead
from scoring import engine, explain
from scoring.history import Outcomes, histories
from scoring.judging import Judge, Panel, form_placeholders
from scoring.models import Agreement
from scoring.selectors import leads_in_scope, typed_attribute_keys

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
    days: int
    since: datetime
    leads: int
    forms: str  # the forms whose leads were judged, in words
    proposal: Count
    against: Count | None
    gained: Outcomes  # qualify under the proposal, not under the version compared with
    dropped: Outcomes  # the reverse
    seconds: float

    @property
    def changed(self) -> int:
        return self.gained.leads + self.dropped.leads


def whatif(
    *,
    proposal: Agreement,
    against: Agreement | None,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> WhatIf:
    """The leads of `proposal`'s forms created in the last `days` days, judged by `proposal`
    and by `against`."""
    started = time.perf_counter()
    since = (now or timezone.now()) - timedelta(days=days)
    panel = Panel([Judge(proposal)] + ([Judge(against)] if against is not None else []))
    leads = leads_in_scope(agreement=proposal).filter(created_at__gte=since)
    seen: dict[tuple, list] = {}  # flags → [leads, gained or dropped or None]
    changers: list[list[tuple[int, str]]] = [[], []]  # gained, dropped
    functions: dict[int, Callable] = {}
    blanks = form_placeholders()  # before the read: the connection is the read's until it ends
    with _rows(leads, panel) as rows:
        for row in rows:
            judged = functions.get(row[2])
            if judged is None:
                judged = functions[row[2]] = _judging(panel, blanks.get(row[2], frozenset()))
            flags = judged(row)
            found = seen.get(flags)
            if found is None:
                found = seen[flags] = [0, _side(panel, flags, changers)]
            found[0] += 1
            if found[1] is not None:
                found[1].append((row[0], row[1]))
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
    )


def _side(panel: Panel, flags: tuple[bool, ...], changers: list[list]) -> list | None:
    """The list the leads with these flags go to: gained, dropped, or None (no change)."""
    qualified = panel.qualified(flags)
    if len(qualified) == 1 or qualified[0] == qualified[1]:
        return None
    return changers[0 if qualified[0] else 1]


# A row: id, stage, form, created at, then the attributes whole as JSON text, or None and the
# values of the keys the criteria read, apart.
_WHOLE, _VALUES = 4, 5


def _reads_values(keys: list[str]) -> bool:
    """Whether to read the criteria's values apart rather than every lead's attributes whole:
    on PostgreSQL, unless a form asks for one of these keys with a field whose answer is not
    a text (a number, a checkbox, a multiple choice): its leads would all be read whole
    anyway, after the server had looked at them twice."""
    if connection.vendor != "postgresql":
        return False
    return not set(keys) & typed_attribute_keys()


@contextmanager
def _rows(leads, panel: Panel) -> Iterator[Iterator[tuple]]:
    """A row per lead (see _WHOLE), 5,000 a fetch, the next 5,000 on their way while these
    are judged (`rows_read_ahead`).

    On PostgreSQL, only the keys some criterion reads leave the database, each apart as a
    text (`->>`: the server sends them for less than the whole JSON, and a text needs no
    decoding here), unless one of them is not a text (`_WholeUnlessTexts`): then the lead's
    attributes come whole, as JSON, and are decoded here (`_reads_values` says when every
    lead is read whole). The time of creation is read only if a criterion needs it.
    """
    whole = Cast("attributes", TextField())  # decoded here, without the ORM's converter
    values: dict[str, Func] = {}
    if _reads_values(panel.keys):
        whole = _WholeUnlessTexts(panel.keys)
        values = {f"value_{i}": _Text(key) for i, key in enumerate(panel.keys)}
    at = F("created_at") if panel.needs_submission else Value(None, output_field=DateTimeField())
    # In no order: ordered by time, a cursor walks the index and reads the table at random.
    rows = (
        leads.order_by()
        .annotate(at=at, whole=whole, **values)
        .values_list("pk", "stage", "source_form_id", "at", "whole", *values)
    )
    with rows_read_ahead(rows, chunk_size=_CHUNK) as read:
        yield read


def _judging(panel: Panel, blanks: frozenset[str]) -> Callable[[tuple], tuple[bool, ...]]:
    """row → the panel's pass flags for the lead, its form's placeholders counted blank."""
    by_dict, by_row, keys, loads = (
        panel.flags(blanks),
        panel.row_flags(blanks, _VALUES),
        panel.keys,
        json.loads,
    )

    if by_row is None:

        def judged(row: tuple) -> tuple[bool, ...]:
            whole = row[_WHOLE]
            if whole is None:
                return by_dict(dict(zip(keys, row[_VALUES:], strict=True)), row[3])
            return by_dict(loads(whole), row[3])

        return judged

    def judged_apart(row: tuple) -> tuple[bool, ...]:
        whole = row[_WHOLE]
        return by_row(row) if whole is None else by_dict(loads(whole), row[3])

    return judged_apart


class _WholeUnlessTexts(Func):
    """The attributes as JSON text when one of `keys` holds a value that is neither a text nor
    null (a number, true, a list...), which `->>` would give as a text; else NULL. Also when
    the attributes are not an object, or the check fails. The keys go into the path as JSON
    strings, the path to the server as a parameter."""

    output_field = TextField()

    def __init__(self, keys: list[str]):
        typed = "".join(
            f' || (@.{key}.type() != "string" && @.{key}.type() != "null")'
            for key in map(json.dumps, keys)
        )
        # Lax: a key missing is no match, not an error; `.type()` does not unwrap a list.
        super().__init__(F("attributes"), Value(f'lax $ ? (@.type() != "object"{typed})'))

    def as_sql(self, compiler, connection, **extra):
        (column, column_params), (path, path_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        sql = (
            f"CASE WHEN jsonb_path_exists({column}, ({path})::jsonpath, '{{}}', true) "
            f"IS NOT FALSE THEN ({column})::text END"
        )
        return sql, (*column_params, *path_params, *column_params)


class _Text(Func):
    """attributes ->> 'key': the value as a text (or NULL); the key is a parameter."""

    template = "(%(expressions)s)"
    arg_joiner = " ->> "
    output_field = TextField()

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
