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
from zoneinfo import ZoneInfo

from leads.models import Lead, Stage

ACCEPT, CONTACT = "accept", "contact"
STEPS: dict[str, str] = {Stage.ROUTED: ACCEPT, Stage.ACCEPTED: CONTACT}
# What a clock's start, restart or stop writes: save these with the lead.
CLOCK_FIELDS = ("due_step", "due_from", "due_at", "remind_at", "escalations")


@dataclass(frozen=True)
class Levels:
    """One agreement's service levels, as the clock needs them (scoring builds them)."""

    minutes: dict[str, int]  # step -> working minutes allowed
    add: Callable[[datetime, int], datetime]  # working minutes after an instant
    is_open: Callable[[datetime], bool]  # whether an instant is within working hours
    time_zone: str  # the sales team's, in which people read the times

    def words(self, moment: datetime) -> str:
        """As the sales team's clocks show it: "Mon Nov 30, 13:00 CET"."""
        local = moment.astimezone(ZoneInfo(self.time_zone))
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
        step = STEPS.get(lead.stage)
        found = levels.get(lead.source_form_id) if step else None
        if found is None:
            clock_stop(lead)
            continue
        lead.due_step, lead.due_from = step, at
        _count(lead, found)


def clocks_recount(leads: Iterable[Lead]) -> None:
    """Count running clocks again from where they started, under the service levels now in
    force (a new agreement became active). A lead whose form no agreement judges keeps its
    own; a rep already reminded is not reminded again."""
    leads = [lead for lead in leads if lead.due_step and lead.due_from]
    levels = service_levels({lead.source_form_id for lead in leads}) if leads else {}
    for lead in leads:
        found = levels.get(lead.source_form_id)
        if found is not None:
            _count(lead, found, remind=lead.remind_at is not None)


def clock_stop(lead: Lead) -> None:
    lead.due_step, lead.due_from, lead.due_at, lead.remind_at = "", None, None, None


def _count(lead: Lead, levels: Levels, *, remind: bool = True) -> None:
    minutes = levels.minutes[lead.due_step]
    lead.due_at = levels.add(lead.due_from, minutes)
    percent = remind_percent(lead) if remind else None
    lead.remind_at = levels.add(lead.due_from, minutes * percent // 100) if percent else None


def remind_percent(lead: Lead) -> int | None:
    """The share of the step's time after which its queue reminds the rep (None: never).
    Read from the queue the lead came through: it is routing's setting, read by name."""
    queue = lead.queue if lead.queue_id else None
    return getattr(queue, "remind_percent", None) or None
