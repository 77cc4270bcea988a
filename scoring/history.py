"""What sales did with leads: reached sales, accepted, rejected (and why), won or lost.

Read from the leads' stage-change events and their stage now, a few queries for any number
of leads; the what-if and the criterion effectiveness count these for groups of leads.

The rates, as the pages state them:
- acceptance = accepted ÷ (accepted + rejected), among leads a rep decided on;
- win rate = won ÷ accepted.
A lead rejected and later accepted by another rep counts as accepted.

An outcome imported from history (won, lost or rejected, `lead_record_outcome`: a stage
event marked `historic`, dated when it happened) is a decision too: won or lost means sales
accepted it, rejected means rejected. Each group says how many of its decisions were
imported and how many were the reps' own.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from leads.models import LeadEvent, RejectionReason, Stage

_CHUNK = 5000  # lead ids per query


@dataclass(slots=True)
class History:
    routed: bool = False
    accepted: bool = False
    rejected_for: str | None = None  # the last rejection reason, if rejected
    stage: str = ""
    imported: bool = False  # its decision came from an import, not a rep

    @property
    def decided(self) -> bool:
        return self.accepted or self.rejected_for is not None


def period_words(days: int | None, since: datetime | None, until: datetime | None) -> str:
    """The period after a verb: "in the last 90 days", "since 3 Jan 2019", "from 3 Jan 2019
    to 2 Jan 2020", "at any time"."""
    if days is not None:
        return f"in the last {days} days"
    last = until and timezone.localtime(until - timedelta(microseconds=1))
    first = since and timezone.localtime(since)
    if first and last:
        return f"from {first:%-d %b %Y} to {last:%-d %b %Y}"
    if first:
        return f"since {first:%-d %b %Y}"
    return f"up to {last:%-d %b %Y}" if last else "at any time"


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Outcomes:
    """What sales did with a group of leads."""

    leads: int = 0
    reached_sales: int = 0
    accepted: int = 0
    rejected: int = 0  # rejected, never accepted
    won: int = 0
    lost: int = 0
    imported: int = 0  # decided leads whose outcome was imported, not a rep's decision
    reasons: Counter = field(default_factory=Counter)

    def add(self, history: History | None) -> None:
        self.leads += 1
        if history is None:
            return
        self.reached_sales += history.routed or history.decided
        if history.decided and history.imported:
            self.imported += 1
        if history.accepted:
            self.accepted += 1
        elif history.rejected_for is not None:
            self.rejected += 1
            self.reasons[history.rejected_for] += 1
        self.won += history.stage == Stage.WON
        self.lost += history.stage == Stage.LOST

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def by_reps(self) -> int:
        """Decided leads whose decision a rep made."""
        return self.decided - self.imported

    @property
    def acceptance(self) -> float | None:
        return rate(self.accepted, self.decided)

    @property
    def win_rate(self) -> float | None:
        return rate(self.won, self.accepted)

    @property
    def rejection_reasons(self) -> list[tuple[str, int]]:
        """(reason in words, count), the most frequent first."""
        labels = dict(RejectionReason.choices)
        return [
            (labels.get(code, code or "No reason given"), count)
            for code, count in self.reasons.most_common()
        ]


# Won and lost prove an acceptance (only an accepted lead goes on to them): an imported
# outcome has no accepted event before it.
_SALES_STAGES = (Stage.ROUTED, Stage.ACCEPTED, Stage.REJECTED, Stage.WON, Stage.LOST)


def histories(leads: Iterable[tuple[int, str]]) -> dict[int, History]:
    """The history of each (lead id, stage now): one query per 5,000 leads, events only."""
    found: dict[int, History] = {}
    pending = list(leads)
    for start in range(0, len(pending), _CHUNK):
        chunk = dict(pending[start : start + _CHUNK])
        events = (
            LeadEvent.objects.filter(
                lead_id__in=list(chunk),
                kind=LeadEvent.Kind.STAGE_CHANGED,
                to_stage__in=_SALES_STAGES,
            )
            .order_by("lead_id", "id")
            .values_list("lead_id", "to_stage", "reason_code", "data__historic")
        )
        for lead_id, to_stage, reason_code, historic in events.iterator(chunk_size=_CHUNK):
            history = found.get(lead_id)
            if history is None:
                history = found[lead_id] = History(stage=chunk[lead_id])
            if to_stage == Stage.ROUTED:
                history.routed = True
                continue
            if to_stage == Stage.REJECTED:
                history.rejected_for = reason_code
            else:
                history.accepted = True
            history.imported = bool(historic)
    return found
