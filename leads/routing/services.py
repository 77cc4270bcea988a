"""Who gets a qualified lead: the first queue that takes it, the next rep in turn with room."""

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from leads import locks
from leads.clock import CLOCK_FIELDS, clocks_start
from leads.events import event_reassigned, events_record, new_assigned
from leads.lifecycle import OPEN_STAGES, IllegalMove, lead_move, lead_moved, leads_save
from leads.models import Lead, LeadEvent, Stage
from leads.routing.models import Assignment, Queue, QueueMember
from leads.routing.selectors import REASSIGNABLE, active_reps
from leads.signals import queue_clocks_changed
from portal.errors import DomainError, PermissionDenied

logger = logging.getLogger(__name__)

# A lead no queue had room for is tried again after this (a rep may have finished one).
ROUTE_RETRY = timedelta(seconds=settings.LEADBRIDGE_HANDOFF_RETRY_SECONDS)


def lead_route(*, lead_id: int) -> Assignment | None:
    """Assign one qualified lead (see `leads_route`); None when it is gone or waits for room."""
    with transaction.atomic():
        lead = locks.lead_locked(lead_id, stage=Stage.QUALIFIED)
        if lead is None:
            return None
        assignments = leads_route(leads=[lead])
    return assignments[0] if assignments else None


def leads_route(*, leads: Sequence[Lead]) -> list[Assignment]:
    """Give qualified leads, locked by the caller, to the first queue that takes each and has
    a rep with room; in the order given, as if one by one, with one write per table.

    Locks, always in this order so two routers never deadlock: the leads (by the caller;
    a second delivery finds them routed), every active queue (round-robin cursors) and
    every rep of those queues (capacity is counted across all of a rep's queues, so two
    queues sharing a rep must not both hand them their last free slot). A lead no queue
    has room for waits `ROUTE_RETRY` before the handoff tries it again.
    """
    leads = [lead for lead in leads if lead.stage == Stage.QUALIFIED]
    if not leads:
        return []
    queues = sorted(
        locks.rows_locked(Queue, Queue.objects.filter(is_active=True).values_list("pk", flat=True)),
        key=lambda q: (q.priority, q.name),
    )
    members = _members_by_queue({q.pk: q for q in queues})
    reps = {m.rep_id for ms in members.values() for m in ms}
    locks.rows_locked(get_user_model(), reps)
    open_leads = _open_leads(_capped_reps(queues, members))
    now = timezone.now()
    assignments, events, moved_queues, waiting = [], [], {}, []
    for lead in leads:
        for queue in (q for q in queues if q.takes(lead.attributes)):
            member = _next_member(queue, members.get(queue.pk, []), open_leads)
            if member is not None:
                open_leads[member.rep_id] = open_leads.get(member.rep_id, 0) + 1
                queue.last_position = member.position
                moved_queues[queue.pk] = queue
                assignments.append(Assignment(lead=lead, queue=queue, rep=member.rep))
                events.extend(_assigned(lead, queue, member.rep, at=now))
                break
        else:
            lead.route_due_at = now + ROUTE_RETRY
            waiting.append(lead)
    Assignment.objects.bulk_create(assignments)
    routed = [a.lead for a in assignments]
    clocks_start(routed, at=now)  # one read of the service levels for the batch
    leads_save(
        routed,
        [
            "owner",
            "queue",
            "stage",
            "stage_changed_at",
            "updated_at",
            "route_due_at",
            *CLOCK_FIELDS,
        ],
    )
    leads_save(waiting, ["route_due_at"])
    for queue in moved_queues.values():
        queue.save(update_fields=["last_position"])
    events_record(events)
    if waiting:
        logger.warning(
            "No queue has a rep with room for %d leads (%s); they wait.",
            len(waiting),
            ", ".join(str(lead.pk) for lead in waiting[:10]),
        )
    return assignments


def _assigned(lead: Lead, queue: Queue, rep, *, at) -> list[LeadEvent]:
    lead.owner, lead.queue, lead.route_due_at = rep, queue, None
    return [
        lead_moved(lead=lead, to=Stage.ROUTED, reason=f"Queue {queue.name} took the lead.", at=at),
        new_assigned(
            lead=lead,
            queue=queue,
            rep=rep,
            at=at,
            reason=f"Round robin in queue {queue.name} assigned the lead to {rep}.",
        ),
    ]


def _members_by_queue(queues: dict[int, Queue]) -> dict[int, list[QueueMember]]:
    members: dict[int, list[QueueMember]] = {}
    # Who may be given a lead is one rule (`active_reps`): a member whose account was
    # deactivated, or whose role no longer works leads, stays in the queue but is passed over.
    active = QueueMember.objects.filter(
        queue_id__in=list(queues), is_active=True, rep__in=active_reps().values("pk")
    )
    for member in active.select_related("rep").order_by("queue_id", "position"):
        members.setdefault(member.queue_id, []).append(member)
    return members


def _capped_reps(queues: list[Queue], members: dict[int, list[QueueMember]]) -> set[int]:
    """The reps whose open leads must be counted: members of a queue with a capacity.
    Counting reads every open lead they hold, so a batch for uncapped queues skips it."""
    capped = (q for q in queues if q.capacity_per_rep is not None)
    return {m.rep_id for q in capped for m in members.get(q.pk, [])}


def _open_leads(rep_ids: set[int]) -> dict[int, int]:
    if not rep_ids:
        return {}
    counted = (
        Lead.objects.filter(owner_id__in=rep_ids, stage__in=OPEN_STAGES)
        .values_list("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(counted)


def _next_member(
    queue: Queue, members: list[QueueMember], open_leads: dict[int, int]
) -> QueueMember | None:
    after_cursor = [m for m in members if m.position > queue.last_position]
    before_cursor = [m for m in members if m.position <= queue.last_position]
    for member in after_cursor + before_cursor:
        held = open_leads.get(member.rep_id, 0)
        if queue.capacity_per_rep is None or held < queue.capacity_per_rep:
            return member
    return None


# What the sales manager sets on a queue's page.
QUEUE_SETTINGS = (
    "name",
    "priority",
    "match_attribute",
    "match_values",
    "capacity_per_rep",
    "is_active",
    "manager",
    "remind_percent",
    "max_reassignments",
    "escalate_off_hours",
    "business_days",
    "business_opens",
    "business_closes",
    "time_zone",
)
# A change of these counts the queue's running clocks again (scoring's recount, on commit).
CLOCK_SETTINGS = ("remind_percent", *QUEUE_SETTINGS[-4:])


def queue_save(*, queue: Queue, reps: Sequence) -> Queue:
    """Save a queue's settings and who works it. Reps it keeps keep their place in the turn
    (so the round-robin cursor still points where it did), new ones join at the end, and
    those left out leave the queue; their leads stay theirs. The queue is locked as routing
    locks it, so a batch being routed sees it before or after, never half-saved."""
    with transaction.atomic():
        if queue.pk:
            before = locks.rows_locked(Queue, [queue.pk])[0]
            # Not the round-robin cursor: routing may have moved it since the page was read.
            queue.save(update_fields=QUEUE_SETTINGS)
            changed = [n for n in CLOCK_SETTINGS if getattr(before, n) != getattr(queue, n)]
            if changed:
                queue_clocks_changed.send(sender=Queue, queue_id=queue.pk)
        else:
            queue.save()
        wanted = [rep.pk for rep in reps]
        members = QueueMember.objects.filter(queue=queue)
        members.exclude(rep__in=wanted).delete()
        kept = dict(members.values_list("rep_id", "position"))
        position = max(kept.values(), default=-1) + 1
        joining = []
        for rep_id in wanted:
            if rep_id not in kept:
                joining.append(QueueMember(queue=queue, rep_id=rep_id, position=position))
                position += 1
        QueueMember.objects.bulk_create(joining)
    return queue


def lead_reassign(*, lead: Lead, to_rep, by, reason: str) -> Assignment:
    """A manager gives a lead to another rep; a rejected lead is re-routed (back to routed).

    The manager overrides the queues: neither queue membership nor capacity is consulted.
    """
    if not by.has_perm("leads.reassign_lead"):
        raise PermissionDenied(f"{by} may not give leads to other reps.")
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why the lead changes hands.", code="required", field="reason")
    if not active_reps().filter(pk=to_rep.pk).exists():
        raise DomainError(f"{to_rep} is not an active sales rep.", code="not_a_rep", field="to_rep")
    with transaction.atomic():
        lead = locks.lead_locked(lead.pk)
        if lead.stage not in REASSIGNABLE:
            raise IllegalMove(lead, doing="reassigned")
        from_rep = lead.owner
        # Sending a rejected lead back to the rep who rejected it is a manager's call to make.
        if from_rep == to_rep and lead.stage != Stage.REJECTED:
            raise DomainError(f"{to_rep} already has it.", code="same_rep", field="to_rep")
        lead.owner = to_rep
        if lead.stage != Stage.REJECTED:
            # The new rep gets the whole of the step's time (the re-route below starts it).
            clocks_start([lead], at=timezone.now(), restart=True)
        if lead.stage == Stage.REJECTED:
            lead_move(
                lead=lead,
                to=Stage.ROUTED,
                by=by,
                reason=f"{by} sent the lead back to sales.",
                extra_fields=("owner",),
            )
        else:
            lead.save(update_fields=["owner", "updated_at", *CLOCK_FIELDS])
        assignment = Assignment.objects.create(lead=lead, rep=to_rep, assigned_by=by)
        event_reassigned(
            lead=lead,
            from_rep=from_rep,
            to_rep=to_rep,
            by=by,
            reason=f"{by} gave the lead from {from_rep or 'nobody'} to {to_rep}: {reason}",
        )
    return assignment
