"""Criterion effectiveness: for each criterion of a version, what sales did with the leads
that passed it and with those that failed it, over the leads decided in the last N days, and
how often reps flagged it ("this should not have qualified", scoring.flags) in those days.

"Decided" means a rep accepted or rejected the lead in the window, or an import recorded its
outcome (won, lost, rejected) dated in the window (scoring.history states the rates and says
which decisions were imported). The window is any period: the last N days, or dates as far
back as the history goes, so a team that imported its history can tune its first agreement
before any rep has worked a lead. Every decided lead is judged again, in memory, by the
version shown, whatever version judged it then: a criterion's passed and failed sides are
the leads it would pass and fail today.

Two rules, stated on the page:
- TRUST: a side with fewer than 30 decided leads gets a plain note that its rates are too
  few to trust (a mandatory criterion's failed side is usually small: such leads seldom
  reached sales).
- The suggested threshold: among the decided leads that pass every mandatory criterion, the
  score threshold that keeps the most accepted leads minus rejected leads (a kept acceptance
  counts +1, a kept rejection -1); on a tie, the one nearest the current threshold. Only
  leads whose decision is known count, so it can move the threshold only where sales saw
  leads; it is offered only with at least 30 such leads.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from leads.models import Lead, LeadEvent, Stage
from scoring import engine, explain
from scoring.flags import flag_counts
from scoring.history import History, Outcomes, histories, period_words
from scoring.judging import Judge, form_placeholders
from scoring.models import Agreement

DEFAULT_DAYS = 90
TRUST = 30  # decided leads a side needs before its rates are worth reading
_CHUNK = 5000


@dataclass
class CriterionEffect:
    label: str
    words: str
    mandatory: bool
    points: int
    passed: Outcomes = field(default_factory=Outcomes)
    failed: Outcomes = field(default_factory=Outcomes)
    flags: int = 0  # reps' "should not have qualified" pointing at it, in the window

    @property
    def too_few(self) -> list[str]:
        """The sides with fewer than TRUST decided leads."""
        return [
            side
            for side, outcomes in (("passed", self.passed), ("failed", self.failed))
            if outcomes.decided < TRUST
        ]


@dataclass
class Suggestion:
    threshold: int
    current: int
    net_now: int  # accepted minus rejected kept at the current threshold
    net: int  # ... at the suggested one
    changed: Outcomes  # the decided leads that change side between the two
    direction: str  # "raise", "lower" or "keep"


@dataclass
class Effectiveness:
    agreement: Agreement
    days: int | None  # the last N days; None for dates given (`since`, `until`)
    since: datetime | None  # None: from the first lead
    decided: int
    criteria: list[CriterionEffect]
    suggestion: Suggestion | None
    none_fits: int = 0  # flags saying no criterion fits, in the window
    trust: int = TRUST
    until: datetime | None = None  # None: up to now
    imported: int = 0  # decided leads whose outcome was imported, not a rep's decision

    @property
    def period(self) -> str:
        return period_words(self.days, self.since, self.until)


def decisions(*, since: datetime | None, until: datetime | None) -> Q:
    """The stage events that decide a lead, in the period: a rep's accept or reject, or an
    outcome imported from history (won, lost, rejected), dated when it happened."""
    window = Q(kind=LeadEvent.Kind.STAGE_CHANGED) & (
        Q(to_stage__in=(Stage.ACCEPTED, Stage.REJECTED))
        | Q(to_stage__in=(Stage.WON, Stage.LOST), data__historic=True)
    )
    if since is not None:
        window &= Q(at__gte=since)
    if until is not None:
        window &= Q(at__lt=until)
    return window


def effectiveness(
    *,
    agreement: Agreement,
    days: int | None = DEFAULT_DAYS,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> Effectiveness:
    """Over the leads decided in the last `days` days, or, with `days` None, between `since`
    and `until` (either open)."""
    if days is not None:
        since, until = (now or timezone.now()) - timedelta(days=days), None
    judge = Judge(agreement)
    flags = flag_counts(agreement=agreement, since=since, until=until)
    effects = [
        CriterionEffect(
            label=rule.label,
            words=explain.clause(rule),
            mandatory=rule.kind == engine.MANDATORY,
            points=rule.points,
            flags=flags.of(rule),
        )
        for rule in judge.rules
    ]
    decided_ids = sorted(
        set(
            LeadEvent.objects.filter(decisions(since=since, until=until)).values_list(
                "lead_id", flat=True
            )
        )
    )
    blanks = form_placeholders() if decided_ids else {}
    scored: list[tuple[int, History]] = []  # (score, history) of leads passing every mandatory
    imported = 0
    for start in range(0, len(decided_ids), _CHUNK):
        rows = list(
            Lead.objects.filter(pk__in=decided_ids[start : start + _CHUNK]).values_list(
                "pk", "stage", "source_form_id", "created_at", "attributes"
            )
        )
        found = histories((pk, stage) for pk, stage, *_ in rows)
        for pk, _stage, form_id, created_at, attributes in rows:
            history = found.get(pk)
            if history is None or not history.decided:
                continue
            imported += history.imported
            verdict = judge.compiled(blanks.get(form_id, frozenset()))(
                attributes, submitted_at=created_at, now=created_at
            )
            for effect, ok in zip(effects, verdict.passed, strict=True):
                (effect.passed if ok else effect.failed).add(history)
            mandatory, score = judge.mandatory_and_score(tuple(verdict.passed))
            if mandatory:
                scored.append((score, history))
    return Effectiveness(
        agreement=agreement,
        days=days,
        since=since,
        decided=len(decided_ids),
        criteria=effects,
        suggestion=suggested_threshold(scored, agreement.threshold),
        none_fits=flags.none_fits,
        until=until,
        imported=imported,
    )


def suggested_threshold(scored: list[tuple[int, History]], current: int) -> Suggestion | None:
    """The threshold keeping the most accepted minus rejected leads (see the module's rule)."""
    if len(scored) < TRUST:
        return None
    net_at_score: dict[int, int] = defaultdict(int)
    for score, history in scored:
        net_at_score[score] += 1 if history.accepted else -1
    candidates = sorted(set(net_at_score) | {current})

    def net(threshold: int) -> int:
        return sum(value for score, value in net_at_score.items() if score >= threshold)

    best = max(candidates, key=lambda threshold: (net(threshold), -abs(threshold - current)))
    low, high = sorted((best, current))
    changed = Outcomes()
    for score, history in scored:
        if low <= score < high:
            changed.add(history)
    direction = "keep" if best == current else ("raise" if best > current else "lower")
    return Suggestion(
        threshold=best,
        current=current,
        net_now=net(current),
        net=net(best),
        changed=changed,
        direction=direction,
    )
