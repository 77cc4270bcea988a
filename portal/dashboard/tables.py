"""The dashboard's panels as tables: the page, its charts and the CSV export read these rows,
so the three show the same numbers."""

import hashlib
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from portal.dashboard import selectors
from portal.dashboard.selectors import Filters
from portal.durations import duration_words
from scoring.effectiveness import Effectiveness, effectiveness
from scoring.flags import flags_by_criterion
from scoring.selectors import agreement_versions, agreements_active

# A column of times: the CSV keeps the minutes (a spreadsheet sums them), the page shows
# each in hours and days (`Table.page_rows`), as the inbox shows the time left.
MINUTES = " (minutes)"


@dataclass(frozen=True)
class Duration:
    """A cell of minutes as the page shows it: "3 h 47 min", and exactly in its markup."""

    minutes: float

    @property
    def words(self) -> str:
        """Each number held to its unit (a no-break space): a narrow column breaks "3 h 47 min"
        between the hours and the minutes, never inside "47 min"."""
        return re.sub(r"(\d) ", "\\1\u00a0", duration_words(timedelta(minutes=self.minutes)))

    @property
    def iso(self) -> str:
        return f"PT{round(self.minutes * 60)}S"  # an HTML <time> element's duration


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""

    @property
    def page_columns(self) -> list[str]:
        return [column.removesuffix(MINUTES) for column in self.columns]

    @property
    def page_rows(self) -> list[list]:
        """The rows, each cell of a column of minutes a `Duration`."""
        timed = [column.endswith(MINUTES) for column in self.columns]
        return [
            [
                Duration(cell) if is_time and cell is not None else cell
                for cell, is_time in zip(row, timed, strict=True)
            ]
            for row in self.rows
        ]


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def funnel_table(filters: Filters, funnel: dict | None = None) -> Table:
    funnel = funnel or selectors.funnel(filters=filters)
    return Table(
        "funnel",
        "Funnel",
        ["Stage", "Leads that reached or passed it", "Conversion from the stage before (%)"],
        [[row["label"], row["reached"], row["conversion"]] for row in funnel["stages"]],
        note="An outcome imported from history counts as having passed the stages before it.",
    )


def exits_table(filters: Filters, funnel: dict | None = None) -> Table:
    funnel = funnel or selectors.funnel(filters=filters)
    rows = []
    for exit_ in funnel["exits"]:
        rows.append([exit_["label"], "All", exit_["leads"]])
        rows.extend(
            [exit_["label"], reason["label"], reason["leads"]] for reason in exit_["reasons"]
        )
    return Table(
        "exits",
        "Side exits",
        ["Went to", "Reason", "Leads"],
        rows,
        note="Leads that ever went there; a lead rejected twice for two reasons counts under "
        "each reason and once under All.",
    )


def speed_table(filters: Filters, speed: dict | None = None) -> Table:
    speed = speed or selectors.speed_to_lead(filters=filters)
    return Table(
        "speed",
        "Speed to lead",
        ["Measure", "Leads", f"Median{MINUTES}", f"90th percentile{MINUTES}"],
        [
            [row["label"], row["leads"], _minutes(row["median"]), _minutes(row["p90"])]
            for row in speed["measures"]
        ],
        note="Wall-clock time from the lead's submission (its own date).",
    )


def speed_distribution_table(filters: Filters, speed: dict | None = None) -> Table:
    speed = speed or selectors.speed_to_lead(filters=filters)
    return Table(
        "speed-distribution",
        "Submission → first rep action: distribution",
        ["Time to first action", "Leads"],
        [[row["bucket"], row["leads"]] for row in speed["distribution"]],
    )


def speed_weekly_table(filters: Filters, speed: dict | None = None) -> Table:
    speed = speed or selectors.speed_to_lead(filters=filters)
    return Table(
        "speed-weekly",
        "Submission → first rep action: weekly trend",
        ["Week of", "Leads acted on", f"Median{MINUTES}", f"90th percentile{MINUTES}"],
        [
            [row["week"], row["leads"], _minutes(row["median"]), _minutes(row["p90"])]
            for row in speed["weekly"]
        ],
    )


def quality_table(filters: Filters, dimension: str, rows: list[dict] | None = None) -> Table:
    label, _ = selectors.DIMENSIONS[dimension]
    if rows is None:
        rows = selectors.quality_by(filters=filters, dimension=dimension)
    return Table(
        f"quality-{dimension}",
        f"Lead quality by {label.lower()}",
        [
            label,
            "Leads",
            "Qualified",
            "Qualification rate (%)",
            "Accepted",
            "Acceptance rate (%)",
            "Rejected",
            "Most frequent rejection",
            "Won",
            "Win rate (%)",
            "Criteria failed most",
        ],
        [
            [
                row["key"],
                row["volume"],
                row["qualified"],
                row["qualification_rate"],
                row["accepted"],
                row["acceptance_rate"],
                row["rejected"],
                row["top_rejection"],
                row["won"],
                row["win_rate"],
                row["failed_most"],
            ]
            for row in rows
        ],
        note="Acceptance rate: accepted ÷ routed. Win rate: won ÷ qualified.",
    )


def overdue_table(filters: Filters) -> Table:
    rows = selectors.overdue_by_queue_and_rep(filters=filters, now=timezone.now())
    return Table(
        "overdue",
        "Overdue now, by queue and rep",
        ["Queue", "Rep", "Overdue to accept or reject", "Overdue for first contact"],
        [[row["queue"], row["rep"], row["accept"], row["contact"]] for row in rows],
        note="Leads whose service-level due time has passed, whenever they came in.",
    )


def _compliance_table(key: str, title: str, label: str, rows: list[dict]) -> Table:
    columns = [label]
    for _, step in selectors.COMPLIANCE_STEPS:
        columns += [f"{step} due", f"{step} in time", f"{step} late", f"{step} in time (%)"]
    return Table(
        key,
        title,
        columns,
        [
            [
                row["key"],
                *(
                    row[f"{step}_{what}"]
                    for step, _ in selectors.COMPLIANCE_STEPS
                    for what in ("due", "in_time", "late", "share")
                ),
            ]
            for row in rows
        ],
        note="A step counts once its agreed time has passed or it was done; in time: done by "
        "the due time the agreement gave it on entering the step, in working hours.",
    )


def compliance_queue_table(filters: Filters, rows: list[dict] | None = None) -> Table:
    if rows is None:
        rows = selectors.compliance_by_queue(filters=filters, now=timezone.now())
    return _compliance_table("compliance-queue", "Service levels met, by queue", "Queue", rows)


def compliance_rep_table(filters: Filters, rows: list[dict] | None = None) -> Table:
    if rows is None:
        rows = selectors.compliance_by_rep(filters=filters, now=timezone.now())
    return _compliance_table("compliance-rep", "Service levels met, by rep", "Rep", rows)


def team_table(filters: Filters, team: list[dict] | None = None) -> Table:
    team = selectors.team(filters=filters) if team is None else team
    return Table(
        "team",
        "Team",
        [
            "Rep",
            "Open now",
            "Routed to them",
            "Accepted",
            "Won",
            "Win rate (%)",
            f"Median routed → first action{MINUTES}",
        ],
        [
            [
                row["rep"],
                row["open"],
                row["routed"],
                row["accepted"],
                row["won"],
                row["win_rate"],
                _minutes(row["rep_median"]),
            ]
            for row in team
        ],
        note="Per rep who owns the leads now. Win rate: won ÷ accepted.",
    )


def fair_share_table(filters: Filters) -> Table:
    return Table(
        "fair-share",
        "Assignments against fair share",
        [
            "Rep",
            "Assigned by queues",
            "Credited back",
            "Fair share (leads)",
            "Assigned minus fair share",
            "Assigned ÷ fair share (%)",
        ],
        [
            [
                row["rep"],
                row["assigned"],
                row["credited"],
                row["fair_share"],
                row["difference"],
                row["of_fair_share"],
            ]
            for row in selectors.fair_shares(filters=filters)
        ],
        note="The leads in view that queues assigned to each rep (a manager's reassignment "
        "aside; credited back: rejected as not a real person or a duplicate, not counted) "
        "against their share of each queue: each day, by weight in a weighted queue, equal "
        "otherwise, among that day's members who were not away.",
    )


def scores_table(filters: Filters, scores: list[dict] | None = None) -> Table:
    scores = selectors.score_distribution(filters=filters) if scores is None else scores
    return Table(
        "scores",
        "Scores and verdicts by agreement version",
        ["Agreement version", "Score", "Qualified", "Not qualified"],
        [[row["version"], row["score"], row["qualified"], row["not_qualified"]] for row in scores],
        note="The judgement in force for each submission of the leads in view.",
    )


# Every panel by its key, for the CSV export.
PANELS: dict[str, Callable[[Filters], Table]] = {
    "funnel": funnel_table,
    "exits": exits_table,
    "speed": speed_table,
    "speed-distribution": speed_distribution_table,
    "speed-weekly": speed_weekly_table,
    **{
        f"quality-{dimension}": (lambda filters, d=dimension: quality_table(filters, d))
        for dimension in selectors.DIMENSIONS
    },
    "overdue": overdue_table,
    "compliance-queue": compliance_queue_table,
    "compliance-rep": compliance_rep_table,
    "team": team_table,
    "fair-share": fair_share_table,
    "scores": scores_table,
}


def panel_numbers(filters: Filters) -> dict:
    """The selectors' figures that more than one table reads, and the API answers as they
    are (seconds, reason codes): the funnel and its exits, speed to lead, the team, scores;
    and lead quality, which reads the funnel's pass over the facts (`lead_counts`, grouped
    by the quality's dimensions: the funnel adds the groups up)."""
    dimensions = list(selectors.DIMENSIONS)
    fields = [selectors.DIMENSIONS[dimension][1] for dimension in dimensions]
    groups = selectors.lead_counts(filters=filters, fields=fields)
    return {
        "funnel": selectors.funnel(filters=filters, groups=groups),
        "speed_to_lead": selectors.speed_to_lead(filters=filters),
        "team": selectors.team(filters=filters),
        "scores": selectors.score_distribution(filters=filters),
        "quality": selectors.quality_by_each(filters=filters, dimensions=dimensions, groups=groups),
    }


def all_tables(filters: Filters, numbers: dict | None = None) -> dict[str, Table]:
    """Every panel, each selector run once and each pass over the facts read by every panel
    it serves (`numbers`: `panel_numbers`, if read already)."""
    numbers = numbers or panel_numbers(filters)
    funnel, speed, quality = numbers["funnel"], numbers["speed_to_lead"], numbers["quality"]
    service = selectors.compliance(filters=filters, now=timezone.now())
    tables = [
        funnel_table(filters, funnel),
        exits_table(filters, funnel),
        speed_table(filters, speed),
        speed_distribution_table(filters, speed),
        speed_weekly_table(filters, speed),
        *(quality_table(filters, key, rows) for key, rows in quality.items()),
        overdue_table(filters),
        compliance_queue_table(filters, service["queue"]),
        compliance_rep_table(filters, service["rep"]),
        team_table(filters, numbers["team"]),
        fair_share_table(filters),
        scores_table(filters, numbers["scores"]),
    ]
    return {table.key: table for table in tables}


@dataclass
class Figures:
    """Every panel for one set of filters, when they were computed, and the selectors'
    figures the API answers (`panel_numbers`)."""

    tables: dict[str, Table]
    at: datetime
    numbers: dict


# Bump when a panel's rows change shape, so no process reads a copy an older release kept.
FIGURES_VERSION = 2
# How long a request computing the figures holds back the others that find none kept (they
# wait for its copy): well over a page's computation at a million leads (1 s on a quiet
# machine, 3 on a loaded one). A holder whose process died frees its turn when this ends.
COMPUTING_SECONDS = 10
WAIT_POLL_SECONDS = 0.05


def _figures_key(filters: Filters) -> str:
    digest = hashlib.sha256(repr(filters).encode()).hexdigest()[:32]
    return f"dashboard:figures:{FIGURES_VERSION}:{digest}"


def computing_key(key: str) -> str:
    """Whose turn it is to compute the figures kept under `key`."""
    return f"{key}:computing"


def figures_kept(filters: Filters, *, fresh: bool = False) -> Figures:
    """Every panel for `filters`, as computed at most `DASHBOARD_FIGURES_SECONDS` ago (kept in
    the cache, for every viewer: the page, its CSV exports, its printable view and the API
    read the same copy, so they agree); `fresh`: computed now, and kept from now. A page's
    cost so no longer grows with the leads in its window, only the first request's in each
    period; requests that find no copy at once compute it once (`_computed_once`)."""
    key = _figures_key(filters)
    if fresh or settings.DASHBOARD_FIGURES_SECONDS <= 0:
        return _kept(key, filters)
    kept = cache.get(key)
    if kept is not None:
        return kept
    return _computed_once(key, filters)


def _kept(key: str, filters: Filters) -> Figures:
    numbers = panel_numbers(filters)
    figures = Figures(all_tables(filters, numbers), timezone.now(), numbers)
    cache.set(key, figures, settings.DASHBOARD_FIGURES_SECONDS)
    return figures


def _computed_once(key: str, filters: Filters) -> Figures:
    """The figures computed by one request, whatever the processes: the first to find none
    takes the turn (`cache.add`: atomic in local memory and in Redis) and keeps them, the
    others wait for its copy. The turn lapses after COMPUTING_SECONDS, so a holder that died
    (or is that slow) holds no one back longer: the next waiter takes it and computes."""
    turn, mine = computing_key(key), uuid.uuid4().hex
    while True:
        if cache.add(turn, mine, COMPUTING_SECONDS):
            try:
                return _kept(key, filters)
            finally:
                if cache.get(turn) == mine:  # not another's, taken after ours lapsed
                    cache.delete(turn)
        time.sleep(WAIT_POLL_SECONDS)
        kept = cache.get(key)
        if kept is not None:
            return kept


# What only the handoff review shows beside the dashboard's panels: the agreement's side of the
# meeting, for the review's period (the other filters do not apply). Their CSV is the same
# rows, live (`/dashboard/<panel>.csv`) and frozen.


def _percent(fraction: float | None) -> float | None:
    return None if fraction is None else round(100 * fraction, 1)


def flags_table(filters: Filters) -> Table:
    groups = flags_by_criterion(since=filters.since, until=filters.until)
    return Table(
        "flags",
        "Reps' “should not have qualified”, by criterion",
        ["Agreement version", "Criterion", "Flags"],
        [[group.agreement.version, group.label, group.count] for group in groups],
        note="Flags made in the period, on the criterion the rep pointed at (None fits: the "
        "agreement lacks the rule).",
    )


def _effects(filters: Filters) -> list[Effectiveness]:
    return [
        effectiveness(agreement=agreement, days=None, since=filters.since, until=filters.until)
        for agreement in agreements_active()
    ]


def effectiveness_table(filters: Filters, effects: list[Effectiveness] | None = None) -> Table:
    effects = _effects(filters) if effects is None else effects
    columns = ["Agreement version", "Criterion", "Points"]
    for side in ("Passed", "Failed"):
        columns += [
            f"{side}: decided",
            f"{side}: of them imported",
            f"{side}: acceptance (%)",
            f"{side}: win rate (%)",
        ]
    rows = []
    for found in effects:
        for effect in found.criteria:
            row = [
                found.agreement.version,
                effect.label,
                "mandatory" if effect.mandatory else effect.points,
            ]
            for side in (effect.passed, effect.failed):
                row += [
                    side.decided,
                    side.imported,
                    _percent(side.acceptance),
                    _percent(side.win_rate),
                ]
            rows.append([*row, effect.flags])
    return Table(
        "effectiveness",
        "Criterion effectiveness",
        [*columns, "Flags"],
        rows,
        note="Leads decided in the period (a rep accepted or rejected them, or an import "
        "recorded their outcome: imported, counted apart), judged again by the active version. "
        "Acceptance: accepted ÷ decided; win rate: won ÷ accepted. A side with fewer than "
        "30 decided leads is too few to trust.",
    )


DIRECTIONS = {"raise": "Raise it", "lower": "Lower it", "keep": "Keep it"}


def threshold_table(filters: Filters, effects: list[Effectiveness] | None = None) -> Table:
    effects = _effects(filters) if effects is None else effects
    rows = []
    for found in effects:
        advice = found.suggestion
        rows.append(
            [
                found.agreement.version,
                found.agreement.threshold,
                advice.threshold if advice else None,
                DIRECTIONS[advice.direction] if advice else "Too few decided leads",
                advice.net_now if advice else None,
                advice.net if advice else None,
                found.decided,
                found.imported,
            ]
        )
    return Table(
        "threshold",
        "Threshold advice",
        [
            "Agreement version",
            "Threshold now",
            "Suggested threshold",
            "Advice",
            "Accepted minus rejected kept now",
            "… at the suggested threshold",
            "Decided leads",
            "Of them imported",
        ],
        rows,
        note="Among the decided leads passing every mandatory criterion, the threshold that "
        "keeps the most accepted minus rejected leads; offered with at least 30 of them.",
    )


def proposals_table(filters: Filters) -> Table:
    waiting = agreement_versions().filter(
        proposed_at__isnull=False, activated_at__isnull=True, retired_at__isnull=True
    )
    rows = [
        [
            agreement.version,
            str(agreement.scope),
            str(agreement.proposed_by or ""),
            timezone.localtime(agreement.proposed_at).date(),
            "signed" if agreement.signed_for("marketing") else "waiting",
            "signed" if agreement.signed_for("sales") else "waiting",
        ]
        for agreement in waiting.select_related("scope", "proposed_by")
    ]
    return Table(
        "proposals",
        "Agreement proposals waiting",
        ["Agreement version", "Scope", "Proposed by", "Proposed on", "Marketing", "Sales"],
        rows,
        note="Proposed versions not yet signed by both managers, as they stood then.",
    )


# The review's own panels by key (their CSV, live, for any period).
REVIEW_PANELS: dict[str, Callable[[Filters], Table]] = {
    "flags": flags_table,
    "effectiveness": effectiveness_table,
    "threshold": threshold_table,
    "proposals": proposals_table,
}


def review_tables(filters: Filters) -> dict[str, Table]:
    """What a handoff review freezes: every dashboard panel and the review's own."""
    effects = _effects(filters)
    extra = [
        flags_table(filters),
        effectiveness_table(filters, effects),
        threshold_table(filters, effects),
        proposals_table(filters),
    ]
    return {**all_tables(filters), **{table.key: table for table in extra}}
