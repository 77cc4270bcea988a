"""The routing simulator: where a lead would go and why, and what a proposed queue edit would
change over the last period's leads. Reads only: no lock is taken and nothing is saved (the
turns are counted in memory, as a batch counts them before it writes).

The decisions are routing's own (`services.Turns`, the strategies and the engine), read from
the queues, members and availability as they are now; a "what if" replays the period's leads
in order through the queues as they are and as proposed, from the same starting turns, so
the two differ only by the edit.
"""

import copy
from dataclasses import dataclass, field

from django.utils import timezone

from leads.models import Lead
from leads.routing.models import Assignment, Queue
from leads.routing.selectors import routing_attributes_of
from leads.routing.services import Turns, _members_by_queue
from leads.routing.strategies import why_sentences


@dataclass
class Outcome:
    queue: str | None
    rep: str | None
    why: list[str]
    pool: str | None = None


def _turns(queues: list[Queue], now) -> Turns:
    queues = sorted(queues, key=lambda q: (q.priority, q.name))
    return Turns(queues, _members_by_queue({q.pk: q for q in queues}), now=now)


def _active_queues() -> list[Queue]:
    return list(Queue.objects.filter(is_active=True))


def simulate(attributes: dict, *, now=None) -> Outcome:
    """Which queue and rep would get a lead with these attributes now, and why."""
    turns = _turns(_active_queues(), now or timezone.now())
    decision = turns.route(attributes)
    rep = decision.member.rep if decision.member else None
    return Outcome(
        queue=decision.queue.name if decision.queue else None,
        rep=(rep.get_full_name() or rep.username) if rep else None,
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
    """Replay the leads queues assigned since `since` (at most `limit`, oldest first) through
    the queues as they are and with `queue`'s fields changed to `proposed` (conditions,
    priority, strategy, caps, is_active); how many would go to another queue or rep."""
    now = now or timezone.now()
    current = _active_queues()
    edited = copy.copy(queue)
    for name, value in proposed.items():
        setattr(edited, name, value)
    others = [q for q in current if q.pk != queue.pk]
    proposal = others + ([edited] if edited.is_active else [])
    lead_ids = list(
        Assignment.objects.filter(queue__isnull=False, assigned_at__gte=since, assigned_by=None)
        .order_by("assigned_at", "pk")
        .values_list("lead_id", flat=True)
        .distinct()[:limit]
    )
    leads = list(Lead.objects.filter(pk__in=lead_ids).order_by("created_at", "pk"))
    attributes = routing_attributes_of(leads)
    as_is = _turns([copy.copy(q) for q in current], now)
    as_proposed = _turns([copy.copy(q) for q in proposal], now)
    result = WhatIf(leads=len(leads))
    for lead in leads:
        before = as_is.route(attributes[lead.pk])
        after = as_proposed.route(attributes[lead.pk])
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


def _name(queue: Queue | None) -> str:
    return queue.name if queue else "no queue (waits)"


def _rep(decision) -> str:
    if decision.member is None:
        return "nobody (waits)"
    rep = decision.member.rep
    return rep.get_full_name() or rep.username
