import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from leads.lifecycle import OPEN_STAGES, lead_move
from leads.models import Assignment, Lead, Queue, QueueMember, Stage, Submission

logger = logging.getLogger(__name__)


def lead_route(*, lead_id: int) -> Assignment | None:
    """Assign a qualified lead to the first queue that takes it and has a rep with room.

    The lead row is locked first, so a second delivery of the same task finds it routed and
    returns; the queue row is locked while its round-robin cursor moves, so two workers never
    hand out the same turn.
    """
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id, stage=Stage.QUALIFIED).first()
        if lead is None:
            return None
        for queue in Queue.objects.filter(is_active=True):
            if not queue.takes(lead.attributes):
                continue
            queue = Queue.objects.select_for_update().get(pk=queue.pk)
            member = _next_member(queue)
            if member is None:
                continue
            return _assign(lead, queue, member)
    logger.warning("No queue has a rep with room for lead %s; it waits for the sweeper.", lead_id)
    return None


def _next_member(queue: Queue) -> QueueMember | None:
    members = list(
        queue.members.filter(is_active=True, rep__is_active=True)
        .annotate(
            open_leads=Count("rep__owned_leads", filter=Q(rep__owned_leads__stage__in=OPEN_STAGES))
        )
        .select_related("rep")
        .order_by("position")
    )
    after_cursor = [m for m in members if m.position > queue.last_position]
    before_cursor = [m for m in members if m.position <= queue.last_position]
    for member in after_cursor + before_cursor:
        if queue.capacity_per_rep is None or member.open_leads < queue.capacity_per_rep:
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
        reason=f"Round robin in queue {queue.name} assigned the lead to {member.rep}.",
        extra_fields=("owner", "queue"),
    )
    return assignment


def unfinished_work(*, older_than: timedelta | None = None) -> tuple[list[int], list[int]]:
    """Submissions never scored and qualified leads never routed: their message was lost."""
    older_than = older_than or timedelta(seconds=settings.LEADBRIDGE_SWEEP_AFTER_SECONDS)
    cutoff = timezone.now() - older_than
    unscored = Submission.objects.filter(qualification__isnull=True, received_at__lt=cutoff)
    unrouted = Lead.objects.filter(stage=Stage.QUALIFIED, stage_changed_at__lt=cutoff)
    return (
        list(unscored.values_list("pk", flat=True)[:1000]),
        list(unrouted.values_list("pk", flat=True)[:1000]),
    )
