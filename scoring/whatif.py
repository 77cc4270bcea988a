"""The what-if: how the leads of the last N days come out under a draft or proposal, against
the version it is compared with (by default the active one).

How many qualify under each; which criteria fail the most leads under each; and for the
leads that would change side, what sales did with them (scoring.history states the rates).
One query reads the leads (a server-side cursor, 5,000 rows at a time), each version is
compiled once per form's placeholders and judges them in memory, then one query per 5,000
leads that change side reads their history: never one query per lead.

A lead is judged as it was when it came in: its attributes now, "submitted within N days"
counted from its arrival (so it passes), "answered on the form" read as "is not blank".
"""

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from leads.models import Lead
from scoring import engine, explain
from scoring.history import Outcomes, histories
from scoring.judging import Judge, form_placeholders
from scoring.models import Agreement

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
    """The leads created in the last `days` days, judged by `proposal` and by `against`."""
    started = time.perf_counter()
    since = (now or timezone.now()) - timedelta(days=days)
    judges = [Judge(proposal)] + ([Judge(against)] if against is not None else [])
    rows = Lead.objects.filter(created_at__gte=since).values_list(
        "pk", "stage", "source_form_id", "created_at", "attributes"
    )
    patterns: list[Counter] = [Counter() for _ in judges]
    changers: list[list[tuple[int, str]]] = [[], []]  # gained, dropped
    functions: dict[int, list] = {}
    blanks = None
    total = 0
    for pk, stage, form_id, created_at, attributes in rows.iterator(chunk_size=_CHUNK):
        judging = functions.get(form_id)
        if judging is None:
            if blanks is None:
                blanks = form_placeholders()
            judging = functions[form_id] = [
                _function(judge, blanks.get(form_id, frozenset())) for judge in judges
            ]
        total += 1
        verdict = judging[0](attributes, created_at)
        patterns[0][tuple(verdict.passed)] += 1
        if len(judging) == 1:
            continue
        other = judging[1](attributes, created_at)
        patterns[1][tuple(other.passed)] += 1
        if verdict.qualified != other.qualified:
            changers[0 if verdict.qualified else 1].append((pk, stage))
    counts = [_count(judge, found, total) for judge, found in zip(judges, patterns, strict=True)]
    groups = [_outcomes(group) for group in changers]
    return WhatIf(
        days=days,
        since=since,
        leads=total,
        proposal=counts[0],
        against=counts[1] if len(counts) > 1 else None,
        gained=groups[0],
        dropped=groups[1],
        seconds=time.perf_counter() - started,
    )


def _function(judge: Judge, blanks: frozenset[str]):
    compiled = judge.compiled(blanks)
    if judge.needs_submission:
        return lambda attributes, at: compiled(attributes, submitted_at=at, now=at)
    return lambda attributes, _at: compiled(attributes)


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
