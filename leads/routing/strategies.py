"""Which member of a queue gets the next lead: plain Python, no Django (house rule 4).

The caller (leads/routing/services.py) locks the queue and its reps, reads each member's
state into a `Member` and, after a pick, writes back what changed. Every strategy skips
members who cannot take a lead now (away, outside working hours, paused, at a cap) and says
why; a member owed credits (leads they rejected as invalid) is served first; ties go by turn,
the first member after the queue's cursor.

- round robin: the next member after the cursor;
- weighted: stride scheduling, the member with the lowest pass (each lead adds 1/weight), so
  over many leads each gets weight/sum(weights) of them, and never far from it on the way;
- least loaded: the member with the fewest open leads.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

ROUND_ROBIN, WEIGHTED, LEAST_LOADED = "round_robin", "weighted", "least_loaded"

# Why a member was passed over (explanations keep the code; people read the sentence).
AWAY, OFF_HOURS, PAUSED, AT_CAP, DAY_CAP, INACTIVE = (
    "away",
    "outside_hours",
    "paused",
    "at_cap",
    "day_cap",
    "inactive",
)


@dataclass(slots=True)
class Member:
    rep_id: int
    position: int
    name: str = ""
    weight: int = 1
    stride_pass: float = 0.0
    credits: int = 0
    open_leads: int = 0
    today: int = 0  # leads received from this queue today
    unavailable: str | None = None  # AWAY / OFF_HOURS / PAUSED / INACTIVE, or None
    # The member's own caps in this queue; None: the queue's (`pick`'s max_open, max_per_day).
    own_max_open: int | None = None
    own_max_per_day: int | None = None


@dataclass(slots=True)
class Pick:
    member: Member | None
    skipped: list[tuple[Member, str]] = field(default_factory=list)
    credited: bool = False


def in_turn(members: Sequence[Member], cursor: int) -> list[Member]:
    """The members in turn: first those after the cursor, then from the start."""
    ordered = sorted(members, key=lambda m: m.position)
    return [m for m in ordered if m.position > cursor] + [
        m for m in ordered if m.position <= cursor
    ]


def why_not(member: Member, *, max_open: int | None, max_per_day: int | None) -> str | None:
    if member.unavailable:
        return member.unavailable
    if member.own_max_open is not None:
        max_open = member.own_max_open
    if member.own_max_per_day is not None:
        max_per_day = member.own_max_per_day
    if max_open is not None and member.open_leads >= max_open:
        return AT_CAP
    if max_per_day is not None and member.today >= max_per_day:
        return DAY_CAP
    return None


def pick(
    strategy: str,
    members: Sequence[Member],
    *,
    cursor: int,
    max_open: int | None = None,
    max_per_day: int | None = None,
) -> Pick:
    """The member who gets the next lead, and who was skipped and why; changes nothing."""
    turn = in_turn(members, cursor)
    skipped, able = [], []
    for member in turn:
        why = why_not(member, max_open=max_open, max_per_day=max_per_day)
        if why is None:
            able.append(member)
        else:
            skipped.append((member, why))
    if not able:
        return Pick(None, skipped)
    owed = [m for m in able if m.credits > 0]
    if owed:
        return Pick(owed[0], passed_over(strategy, turn, skipped, owed[0]), credited=True)
    if strategy == WEIGHTED:
        # min() keeps the first of equals: ties go by turn.
        chosen = min(able, key=lambda m: m.stride_pass)
    elif strategy == LEAST_LOADED:
        chosen = min(able, key=lambda m: m.open_leads)
    else:
        chosen = able[0]
    return Pick(chosen, passed_over(strategy, turn, skipped, chosen))


def passed_over(
    strategy: str, turn: list[Member], skipped: list[tuple[Member, str]], chosen: Member
) -> list[tuple[Member, str]]:
    """Of the members who could not take the lead, those in line before `chosen`: who would
    have had it had they been able. The line is `pick`'s: members owed a credit first, in
    turn; then the lowest pass (weighted), the fewest open leads (least loaded) or nobody
    (round robin) first; ties in turn."""
    if not skipped:
        return skipped
    place = {id(m): i for i, m in enumerate(turn)}

    def line(m: Member) -> tuple:
        if m.credits > 0:
            return (0, 0.0, place[id(m)])
        if strategy == WEIGHTED:
            return (1, m.stride_pass, place[id(m)])
        if strategy == LEAST_LOADED:
            return (1, m.open_leads, place[id(m)])
        return (1, 0.0, place[id(m)])

    ahead = line(chosen)
    return [(m, why) for m, why in skipped if line(m) < ahead]


def take(member: Member, pick: Pick) -> None:
    """Count the lead `pick` gave `member` (in memory; the caller saves it)."""
    member.open_leads += 1
    member.today += 1
    if pick.credited:
        member.credits -= 1
    else:
        member.stride_pass += 1 / max(member.weight, 1)


# Availability -----------------------------------------------------------------------------


def unavailable(
    *,
    now: datetime,
    paused: bool = False,
    time_zone: str = "UTC",
    work_days: Collection[int] = (),
    starts: time | None = None,
    ends: time | None = None,
    absences: Collection[tuple[date, date]] = (),
) -> str | None:
    """Why a rep takes no lead at `now` (PAUSED, AWAY, OFF_HOURS), or None: they can."""
    if paused:
        return PAUSED
    try:
        local = now.astimezone(ZoneInfo(time_zone))
    except Exception:  # a time zone no longer known: the server's clock, not a refusal
        local = now
    today = local.date()
    if any(first <= today <= last for first, last in absences):
        return AWAY
    if work_days and local.weekday() not in work_days:
        return OFF_HOURS
    if starts is not None and ends is not None and not (starts <= local.time() < ends):
        return OFF_HOURS
    return None


WHY_WORDS = {
    AWAY: "out of office",
    OFF_HOURS: "outside working hours",
    PAUSED: "paused",
    AT_CAP: "at the cap of open leads",
    DAY_CAP: "at the cap of leads for the day",
    INACTIVE: "cannot be given leads (account or role)",
}

STRATEGY_WORDS = {
    ROUND_ROBIN: "round robin",
    WEIGHTED: "weighted shares",
    LEAST_LOADED: "least loaded",
}


def _skipped_words(skipped) -> str:
    return "; ".join(
        f"{s.get('name') or 'a rep'} {WHY_WORDS.get(s.get('why'), s.get('why'))}" for s in skipped
    )


def why_sentences(why: dict) -> list[str]:
    """Routing's explanation (an assignment event's `data["why"]`) in sentences, in order:
    the queues passed over and why, the queue that took the lead, who was skipped there."""
    lines = []
    for passed in why.get("passed_over", []):
        name = passed.get("queue")
        if passed.get("why") == "conditions":
            failed = "; ".join(passed.get("failed", []))
            lines.append(f"Passed over {name}: the lead fails its conditions ({failed}).")
        elif passed.get("why") == "no_members":
            lines.append(f"Passed over {name}: it has no reps who can be given leads.")
        else:
            skipped = _skipped_words(passed.get("skipped", []))
            lines.append(f"Passed over {name}: none of its reps could take it ({skipped}).")
    if why.get("queue"):
        strategy = STRATEGY_WORDS.get(why.get("strategy"), why.get("strategy"))
        lines.append(f"Queue {why['queue']} took the lead; its reps take turns by {strategy}.")
    if why.get("skipped"):
        lines.append(f"Skipped in turn: {_skipped_words(why['skipped'])}.")
    if why.get("credited"):
        lines.append("The rep was owed a lead (one they had rejected as invalid), so got it first.")
    return lines
