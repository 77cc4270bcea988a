"""Who gets a qualified lead: the first queue that takes it, the next rep in turn with room."""

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count

from leads import locks
from leads.events import event_assigned, event_reassigned
from leads.lifecycle import OPEN_STAGES, IllegalMove, lead_move
from leads.models import Lead, Stage
from leads.routing.models import Assignment, Queue, QueueMember
from leads.routing.selectors import REASSIGNABLE, active_reps
from portal.errors import DomainError, PermissionDenied

logger = logging.getLogger(__name__)


def lead_route(*, lead_id: int) -> Assignment | None:
    """Assign a qualified lead to the first queue that takes it and has a rep with room.

    Locks, always in this order so two routers never deadlock: the lead (a second delivery
    of the same task finds it routed and returns), every queue that takes it (round-robin
    cursors) and every rep of those queues (capacity is counted across all of a rep's queues,
    so two queues sharing a rep must not both hand them their last free slot).
    """
    with transaction.atomic():
        lead = locks.lead_locked(lead_id, stage=Stage.QUALIFIED)
        if lead is None:
            return None
        candidates = [q for q in Queue.objects.filter(is_active=True) if q.takes(lead.attributes)]
        queues = {q.pk: q for q in locks.rows_locked(Queue, [q.pk for q in candidates])}
        members = _members_by_queue(queues)
        locks.rows_locked(get_user_model(), {m.rep_id for ms in members.values() for m in ms})
        open_leads = _open_leads({m.rep_id for ms in members.values() for m in ms})
        for candidate in candidates:
            queue = queues[candidate.pk]
            member = _next_member(queue, members.get(queue.pk, []), open_leads)
            if member is not None:
                return _assign(lead, queue, member)
    logger.warning("No queue has a rep with room for lead %s; it waits for the sweeper.", lead_id)
    return None


def _members_by_queue(queues: dict[int, Queue]) -> dict[int, list[QueueMember]]:
    members: dict[int, list[QueueMember]] = {}
    active = QueueMember.objects.filter(
        queue_id__in=list(queues), is_active=True, rep__is_active=True
    )
    for member in active.select_related("rep").order_by("queue_id", "position"):
        members.setdefault(member.queue_id, []).append(member)
    return members


def _open_leads(rep_ids: set[int]) -> dict[int, int]:
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


def _assign(lead: Lead, queue: Queue, member: QueueMember) -> Assignment:
    queue.last_position = member.position
    queue.save(update_fields=["last_position"])
    assignment = Assignment.objects.create(lead=lead, queue=queue, rep=member.rep)
    lead.owner, lead.queue = member.rep, queue
    lead_move(
        lead=lead,
        to=Stage.ROUTED,
        reason=f"Queue {queue.name} took the lead.",
        extra_fields=("owner", "queue"),
    )
    event_assigned(
        lead=lead,
        queue=queue,
        rep=member.rep,
        reason=f"Round robin in queue {queue.name} assigned the lead to {member.rep}.",
    )
    return assignment


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
        if lead.stage == Stage.REJECTED:
            lead_move(
                lead=lead,
                to=Stage.ROUTED,
                by=by,
                reason=f"{by} sent the lead back to sales.",
                extra_fields=("owner",),
            )
        else:
            lead.save(update_fields=["owner", "updated_at"])
        assignment = Assignment.objects.create(lead=lead, rep=to_rep, assigned_by=by)
        event_reassigned(
            lead=lead,
            from_rep=from_rep,
            to_rep=to_rep,
            by=by,
            reason=f"{by} gave the lead from {from_rep or 'nobody'} to {to_rep}: {reason}",
        )
    return assignment
