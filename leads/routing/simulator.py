"""The routing simulator: where a lead would go and why, and what a proposed queue edit would
change over the last period's leads. Reads only: no lock is taken and nothing is saved (the
turns are counted in memory, as a batch counts them before it writes).

The decisions are routing's own (`services.Turns`, the strategies and the engine), read from
the queues, members and availability as they are now; a "what if" replays the period's leads
in the order they were routed, each at its own time (who was away or outside their hours
then), through the queues as they are and as proposed, from the same starting turns, so the
two differ only by the edit.
"""

import copy
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from leads.lifecycle import OPEN_STAGES
from leads.models import Lead
from leads.routing.models import Assignment, Queue
from leads.routing.selectors import availability_calendar, routing_attributes_of
from leads.routing.services import Turns, member_rows
from leads.routing.strategies import why_sentences


@dataclass
class Outcome:
    queue: str | None
    rep: str | None
    why: list[str]
    pool: str | None = None


def _turns(queues: list[Queue], now) -> Turns:
    queues = sorted(queues, key=lambda q: (q.priority, q.name))
    return Turns(queues, member_rows([q.pk for q in queues]), now=now)


def _active_queues() -> list[Queue]:
    return list(Queue.objects.filter(is_active=True))


def simulate(attributes: dict, *, now=None) -> Outcome:
    """Which queue and rep would get a lead with these attributes now, and why."""
    turns = _turns(_active_queues(), now or timezone.now())
    decision = turns.route(attributes)
    return Outcome(
        queue=decision.queue.name if decision.queue else None,
        rep=decision.member.name if decision.member else None,
        why=why_sentences(decision.why),
        pool=decision.pool.name if decision.pool else None,
    )


def lead_attributes(lead: Lead) -> dict:
    return routing_attributes_of([lead])[lead.pk]


@dataclass
class WhatIf:
    leads: int = 0
    moved: int = 0
    # (from queue, to queue): how many leads; "-" for none (they would wait)
    queue_moves: dict[tuple[str, str], int] = field(default_factory=dict)
    # rep: (leads now, leads as proposed)
    reps: dict[str, list[int]] = field(default_factory=dict)


def what_if(*, queue: Queue, proposed: dict, since, now=None, limit: int = 5000) -> WhatIf:
    """Replay the leads queues assigned since `since` (at most `limit`, in the order they
    were routed) through the queues as they are and with `queue`'s fields changed to
    `proposed` (conditions, priority, strategy, caps, is_active), each lead at the time it
    was routed (`Replay`); how many would go to another queue or rep."""
    now = now or timezone.now()
    current = _active_queues()
    edited = copy.copy(queue)
    for name, value in proposed.items():
        setattr(edited, name, value)
    others = [q for q in current if q.pk != queue.pk]
    proposal = others + ([edited] if edited.is_active else [])
    routed_at: dict[int, object] = {}
    assigned = (
        Assignment.objects.filter(queue__isnull=False, assigned_at__gte=since, assigned_by=None)
        .order_by("assigned_at", "pk")
        .values_list("lead_id", "assigned_at")
    )
    for lead_id, at in assigned.iterator():
        routed_at.setdefault(lead_id, at)  # a lead's first routing in the period
        if len(routed_at) == limit:
            break
    leads = sorted(
        Lead.objects.filter(pk__in=list(routed_at)), key=lambda lead: (routed_at[lead.pk], lead.pk)
    )
    attributes = routing_attributes_of(leads)
    as_is, as_proposed = (_turns([copy.copy(q) for q in qs], now) for qs in (current, proposal))
    reps = set(as_is.by_rep) | set(as_proposed.by_rep)
    why = _one_moment(availability_calendar(reps, since=since, until=now, paused=False))
    as_is, as_proposed = Replay(as_is, why), Replay(as_proposed, why)
    result = WhatIf(leads=len(leads))
    for lead in leads:
        at, held_until = routed_at[lead.pk], _held_until(lead)
        before = as_is.route(attributes[lead.pk], at=at, held_until=held_until)
        after = as_proposed.route(attributes[lead.pk], at=at, held_until=held_until)
        key_before = (_name(before.queue), _rep(before))
        key_after = (_name(after.queue), _rep(after))
        if key_before != key_after:
            result.moved += 1
        if key_before[0] != key_after[0]:
            move = (key_before[0], key_after[0])
            result.queue_moves[move] = result.queue_moves.get(move, 0) + 1
        for index, rep in ((0, key_before[1]), (1, key_after[1])):
            result.reps.setdefault(rep, [0, 0])[index] += 1
    return result


class Replay:
    """The queues' turns replayed through past leads, each at the moment it was routed: who
    was away or outside their working hours then (their days away and hours as stored; the
    pause switch is a state of now, so a replay leaves it out), the leads a day counted per
    day of the replay, and the open leads those the replay gave each rep that were still
    open then (a lead counts from its routing until it left the open stages as it really
    did). The turns (cursors, passes, credits) start as they are now, the same for both
    sides of a what-if, so the two differ only by the edit."""

    def __init__(self, turns: Turns, why: Callable):
        """`why(rep_id, moment)`: why the rep could not take a lead then (the calendar)."""
        self.turns, self.why = turns, why
        self.day = None
        self.closing: list[tuple] = []  # (when a replayed lead left the open stages, rep id)
        for states in turns.by_rep.values():
            for state in states:
                state.open_leads = state.today = 0

    def route(self, attributes: dict, *, at, held_until):
        self._move_to(at)
        decision = self.turns.route(attributes)
        if decision.member is not None and held_until is not None:
            heapq.heappush(self.closing, (held_until, decision.member.rep_id))
        return decision

    def _move_to(self, at) -> None:
        day = timezone.localdate(at)
        fresh_day, self.day = day != self.day, day
        while self.closing and self.closing[0][0] <= at:
            _, rep_id = heapq.heappop(self.closing)
            for state in self.turns.by_rep[rep_id]:
                state.open_leads -= 1
        for rep_id, states in self.turns.by_rep.items():
            why = self.why(rep_id, at)
            for state in states:
                state.unavailable = why
                if fresh_day:
                    state.today = 0


def _one_moment(why: Callable) -> Callable:
    """`why`, remembered for the last moment asked: both sides of a what-if ask it of the
    same reps at the same moment, lead after lead."""
    memo: dict = {}

    def at(rep_id: int, moment):
        if memo.get("moment") != moment:
            memo.clear()
            memo["moment"] = moment
        if rep_id not in memo:
            memo[rep_id] = why(rep_id, moment)
        return memo[rep_id]

    return at


def _held_until(lead: Lead):
    """When the lead left the open stages (its last change of stage), None: it is open."""
    return None if lead.stage in OPEN_STAGES else lead.stage_changed_at


def _name(queue: Queue | None) -> str:
    return queue.name if queue else "no queue (waits)"


def _rep(decision) -> str:
    if decision.member is None:
        return "nobody (waits)"
    return decision.member.name
