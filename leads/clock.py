"""The service-level clock a lead carries: which step the rep owes it next, and by when.

A clock starts when a lead enters a stage that owes something (routed: accept or reject it;
accepted: contact it first), restarts when the ladder or a manager gives it to another rep,
and stops at any other move. The kernel knows when; how long belongs to the agreement's
service levels and working hours, which scoring owns: `scoring.apps` plugs its reading in
as `service_levels` at start-up, as it plugs the country names into its own explanations.
Nothing here queries per lead: a batch of leads costs one read of the service levels.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from leads.models import Lead, Stage

ACCEPT, CONTACT = "accept", "contact"
STEPS: dict[str, str] = {Stage.ROUTED: ACCEPT, Stage.ACCEPTED: CONTACT}
_STAGE_OF = {step: stage for stage, step in STEPS.items()}
# What a clock's start, restart or stop writes: save these with the lead.
CLOCK_FIELDS = (
    "due_step",
    "due_from",
    "due_at",
    "remind_at",
    "due_soon_at",
    "escalations",
    *(f"{step}_{what}" for step in (ACCEPT, CONTACT) for what in ("due_at", "met_at", "rep")),
)


@dataclass(frozen=True)
class Levels:
    """One agreement's service levels, as the clock needs them (scoring builds them)."""

    minutes: dict[str, int]  # step -> working minutes allowed
    add: Callable[[datetime, int], datetime]  # working minutes after an instant
    is_open: Callable[[datetime], bool]  # whether an instant is within working hours
    time_zone: str  # the sales team's, in which people read the times
    # The same service levels in other working hours (a queue's own), or None.
    in_hours: Callable[..., "Levels"] | None = None

    def words(self, moment: datetime) -> str:
        """As the sales team's clocks show it: "Mon Nov 30, 13:00 CET"."""
        return _minute_words(self.time_zone, moment.replace(second=0, microsecond=0))


@lru_cache(maxsize=4096)
def _minute_words(time_zone: str, minute: datetime) -> str:
    """Once per minute and time zone: the escalation step words two times per due lead, and
    a batch's due times share their minutes (the formatting was 8 % of the step's Python,
    py-spy, bench/sla.py). Offsets change on whole minutes, so the minute decides the text."""
    local = minute.astimezone(ZoneInfo(time_zone))
    return f"{local:%a %b} {local.day}, {local:%H:%M %Z}"


def _no_service_levels(form_ids: Iterable[int] | None) -> dict[int, Levels]:
    return {}


# form ids (None: every form) -> the service levels of the active agreement judging each.
# Set by `scoring.apps.ScoringConfig.ready`; without scoring no clock runs.
service_levels: Callable[[Iterable[int] | None], dict[int, Levels]] = _no_service_levels


def clocks_start(leads: Iterable[Lead], *, at: datetime, restart: bool = False) -> None:
    """Start (or stop) the clock of each lead for the stage it is in now, counted from `at`.

    In memory: the caller saves `CLOCK_FIELDS`. A move (`restart=False`) begins a new step,
    so the ladder's count of reassignments starts again; a reassignment (`restart=True`)
    gives the new rep a whole step's time and keeps the count.
    """
    leads = list(leads)
    clocked = {lead.source_form_id for lead in leads if lead.stage in STEPS}
    levels = service_levels(clocked) if clocked else {}
    for lead in leads:
        if not restart:
            lead.escalations = 0
            _step_met(lead, at)
        step = STEPS.get(lead.stage)
        found = _in_queue_hours(lead, levels.get(lead.source_form_id)) if step else None
        if found is None:
            clock_stop(lead)
            continue
        lead.due_step, lead.due_from = step, at
        _count(lead, found)
        if not restart:
            _step_begun(lead)


# The record each step keeps for service-level compliance (the dashboard): when the lead was
# due under the agreement's time from entering the step, who held it then, and when the step
# was done. A reassignment (the ladder's, a manager's) keeps them: the lead was owed from
# entering the step, and a breach stays against the rep who held it (the ladder's rule).
def _step_begun(lead: Lead) -> None:
    step = lead.due_step
    setattr(lead, f"{step}_due_at", lead.due_at)
    setattr(lead, f"{step}_met_at", None)
    setattr(lead, f"{step}_rep_id", lead.owner_id)


def _step_met(lead: Lead, at: datetime) -> None:
    """A move out of a step's stage (accepted or rejected; contacted, lost or nurtured) does
    the step; one the ladder stopped (handed to the manager) has no running clock and is not."""
    step = lead.due_step
    if step and lead.stage != _STAGE_OF[step] and getattr(lead, f"{step}_met_at") is None:
        setattr(lead, f"{step}_met_at", at)


def clocks_recount(leads: Iterable[Lead]) -> None:
    """Count running clocks again from where they started, under the service levels now in
    force (a new agreement became active). A lead whose form no agreement judges keeps its
    own; a rep already reminded is not reminded again."""
    leads = [lead for lead in leads if lead.due_step and lead.due_from]
    levels = service_levels({lead.source_form_id for lead in leads}) if leads else {}
    for lead in leads:
        found = _in_queue_hours(lead, levels.get(lead.source_form_id))
        if found is not None:
            _count(lead, found, remind=lead.remind_at is not None)
            if not lead.escalations:  # the step's first clock: its agreed time changed
                setattr(lead, f"{lead.due_step}_due_at", lead.due_at)


def clock_stop(lead: Lead) -> None:
    lead.due_step, lead.due_from, lead.due_at, lead.remind_at = "", None, None, None
    lead.due_soon_at = None


def _count(lead: Lead, levels: Levels, *, remind: bool = True) -> None:
    """Due time, and the reminder's moment: the queue's share of the step's working time.
    `due_soon_at` keeps that moment after the reminder is sent (the inbox's amber)."""
    minutes = levels.minutes[lead.due_step]
    lead.due_at = levels.add(lead.due_from, minutes)
    percent = remind_percent(lead)
    lead.due_soon_at = levels.add(lead.due_from, minutes * percent // 100) if percent else None
    lead.remind_at = lead.due_soon_at if remind else None


def _in_queue_hours(lead: Lead, levels: Levels | None) -> Levels | None:
    """The agreement's service levels in the working hours of the lead's queue, when it sets
    its own (routing's setting, read by name)."""
    queue = lead.queue if lead.queue_id else None
    hours = queue.own_hours() if queue is not None and hasattr(queue, "own_hours") else None
    if levels is None or hours is None or levels.in_hours is None:
        return levels
    return levels.in_hours(*hours)


def remind_percent(lead: Lead) -> int | None:
    """The share of the step's time after which its queue reminds the rep (None: never).
    Read from the queue the lead came through: it is routing's setting, read by name."""
    queue = lead.queue if lead.queue_id else None
    return getattr(queue, "remind_percent", None) or None
