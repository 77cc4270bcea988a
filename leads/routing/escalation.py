"""The escalation ladder: what a queue does as a lead's due time nears and passes.

At its queue's share of the step's time the rep is reminded; at the due time the breach is
recorded against the rep who held the lead, and the lead goes to the next rep in turn with
room, with the whole step's time again. After the queue's number of reassignments (or when no
other rep has room) it goes to the queue's manager, and its clock stops: the manager deals
with it in person. Every reminder, breach and reassignment is a lead event (the
notifications follow the events); none changes the lead's stage.

The handoff's beat-driven step calls these a batch at a time. A batch claims its leads with
`FOR UPDATE SKIP LOCKED` on the partial indexes of open clocks (`lead_remind_idx`,
`lead_due_idx`) and clears or moves what it found in the same transaction, so two beats or
workers at once split the due leads and never remind or reassign one twice.

Nothing fires outside the working hours of the agreement that judges the lead's form, unless
its queue escalates outside working hours too (`Queue.escalate_off_hours`).
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from leads import clock, locks
from leads.clock import CLOCK_FIELDS, clock_stop, clocks_start
from leads.events import events_record, new_reassigned, new_sla_breached, new_sla_reminder
from leads.lifecycle import leads_save
from leads.models import Lead, LeadEvent
from leads.routing.models import Assignment, Queue, QueueMember
from leads.routing.selectors import received_today
from leads.routing.services import (
    _capped_reps,
    _members_by_queue,
    _next_member,
    _open_leads,
    release_after_commit,
    unavailable_reps,
)
from portal.sql import columns_sql, copy_rows

_OWED = {clock.ACCEPT: "accept or reject it", clock.CONTACT: "contact it first"}


def leads_remind(*, limit: int, now: datetime | None = None) -> int:
    """Remind the reps of up to `limit` leads whose reminder is due; how many were found."""
    now = now or timezone.now()
    if not _any_due(Lead.objects.filter(remind_at__lte=now)):
        return 0
    with transaction.atomic():
        may_fire = _may_fire(now)
        if may_fire is None:
            return 0
        due = Lead.objects.filter(may_fire, remind_at__lte=now, due_at__gt=now)
        leads = _claimed(due.order_by("remind_at"), limit)
        if leads:
            _commit_without_waiting_for_the_disk()
        words = _words(leads, Queue.objects.in_bulk({lead.queue_id for lead in leads}))
        events = []
        for lead in leads:
            reason = (
                f"Reminder to {lead.owner or 'nobody'}: {_OWED[lead.due_step]} by "
                f"{words(lead, lead.due_at)}."
            )
            events.append(new_sla_reminder(lead=lead, reason=reason, at=now))
            lead.remind_at = None
        leads_save(leads, ["remind_at"])
        events_record(events)
    return len(leads)


def leads_escalate(*, limit: int, now: datetime | None = None) -> int:
    """Record the breach of up to `limit` leads past their due time and pass each on (next rep,
    or the manager); how many were found."""
    now = now or timezone.now()
    if not _any_due(Lead.objects.filter(due_at__lte=now)):
        return 0
    with transaction.atomic():
        may_fire = _may_fire(now)
        if may_fire is None:
            return 0
        leads = _claimed(Lead.objects.filter(may_fire, due_at__lte=now).order_by("due_at"), limit)
        if not leads:
            return 0
        _commit_without_waiting_for_the_disk()
        # Routing's lock order: leads, then queues by pk, then their reps (capacity).
        queues = {q.pk: q for q in locks.rows_locked(Queue, {lead.queue_id for lead in leads})}
        members = _members_by_queue(queues)
        reps = {m.rep_id for ms in members.values() for m in ms}
        locks.rows_locked(get_user_model(), reps)
        open_leads = _open_leads(_capped_reps(list(queues.values()), members))
        capped_daily = [
            q.pk
            for q in queues.values()
            if any(m.max_per_day(q) is not None for m in members.get(q.pk, []))
        ]
        today = received_today(capped_daily, now=now)
        away = unavailable_reps(reps, now=now)  # paused, out of office, outside their hours
        managers = _managers(queues.values())
        words = _words(leads, queues)
        events: list[LeadEvent] = []
        assignments, passed_on, moved_queues, freed = [], [], {}, set()
        for lead in leads:
            queue = queues.get(lead.queue_id)
            if queue is not None:
                lead.queue = queue  # the clock reads its reminder share
            member = None
            if queue is not None and lead.escalations < queue.max_reassignments:
                others = [
                    m
                    for m in members.get(queue.pk, [])
                    if m.rep_id != lead.owner_id
                    and m.rep_id not in away
                    and _room_today(queue, m, today)
                ]
                member = _next_member(queue, others, open_leads)
            if member is not None:
                open_leads[member.rep_id] = open_leads.get(member.rep_id, 0) + 1
                today[(queue.pk, member.rep_id)] = today.get((queue.pk, member.rep_id), 0) + 1
                queue.last_position = member.position
                moved_queues[queue.pk] = queue
                to, then = member.rep, _to_next_rep(lead, queue, member.rep)
                passed_on.append(lead)
            else:
                to = managers.get(queue.manager_id) if queue is not None else None
                then = _to_manager(lead, queue, to)
            events.append(_breach(lead, queue, words, then, now))
            if to is not None and to.pk != lead.owner_id:
                data = {"ladder": True, "escalation": lead.escalations + 1}
                data["to_manager"] = member is None
                events.append(_reassigned(lead, to, then, queue, data, now))
                assignments.append((lead.pk, queue.pk, to.pk, now, False))
                if lead.owner_id:
                    freed.add(lead.owner_id)
                lead.owner = to
            if member is None:
                clock_stop(lead)
            lead.escalations += 1
            lead.updated_at = now
        escalations = {lead.pk: lead.escalations for lead in passed_on}
        clocks_start(passed_on, at=now, restart=True)  # the next rep gets the whole step's time
        for lead in passed_on:
            lead.escalations = escalations[lead.pk]
        _assignments_record(assignments)
        leads_save(leads, _ESCALATED)
        for queue in moved_queues.values():
            queue.save(update_fields=["last_position"])
        events_record(events)
        if freed:  # the reps who missed hold one lead fewer: a pooled lead may be theirs
            release_after_commit(rep_ids=freed)
    return len(leads)


# What a breach changes on a lead: its owner and its running clock. The step's record for
# the dashboard (`accept_*`, `contact_*`) stays, as a reassignment keeps it (leads.clock).
_ESCALATED = [
    "owner",
    "updated_at",
    *(name for name in CLOCK_FIELDS if not name.startswith(("accept_", "contact_"))),
]


def _room_today(queue: Queue, member: QueueMember, today: dict[tuple[int, int], int]) -> bool:
    """Below the member's cap of leads a day, their own or the queue's (routing's rule: the
    ladder's assignments count too)."""
    cap = member.max_per_day(queue)
    return cap is None or today.get((queue.pk, member.rep_id), 0) < cap


_ASSIGNMENT_COLUMNS = ("lead_id", "queue_id", "rep_id", "assigned_at", "credited")
COPY_ASSIGNMENTS = f"COPY {columns_sql(Assignment, _ASSIGNMENT_COLUMNS)} FROM STDIN"


def _assignments_record(rows: list[tuple]) -> None:
    """The ladder's assignments, plain rows: by COPY on PostgreSQL (`bulk_create` made and
    compiled a model per row: a thirteenth of the step's time, py-spy)."""
    if connection.vendor == "postgresql":
        copy_rows(COPY_ASSIGNMENTS, rows)
        return
    Assignment.objects.bulk_create(
        Assignment(**dict(zip(_ASSIGNMENT_COLUMNS, row, strict=True))) for row in rows
    )


def _any_due(due) -> bool:
    """Whether anything is due at all, from the partial index alone: with nothing due (the
    beat's usual case) the step is this one query, not the working hours' reads, a
    transaction and a locking claim (51 ms median at load 10 before, bench/sla.py)."""
    return due.exists()


def _commit_without_waiting_for_the_disk() -> None:
    """This transaction's COMMIT returns before its WAL reaches the disk (PostgreSQL's
    `synchronous_commit = off`, for this transaction only): a batch's commit waited on the
    flush for a ninth of the step's time (bench/sla.py). Safe here: a crash in the next few
    hundred milliseconds loses the whole batch, never part of it (atomicity holds), and the
    leads are still due, so the next beat does it again. At worst an e-mail queued after the
    lost commit is sent twice."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _claimed(due, limit: int) -> list[Lead]:
    """The first `limit` of `due`, locked; rows another batch holds are skipped, not waited for.

    Their owners are read once each, not joined: a queue's few reps own the whole batch, and
    a user model built per lead was a twelfth of the step's Python (py-spy, bench/sla.py)."""
    leads = list(due.select_for_update(skip_locked=True, of=("self",))[:limit])
    owner_ids = {lead.owner_id for lead in leads if lead.owner_id is not None}
    owners = get_user_model().objects.in_bulk(owner_ids) if owner_ids else {}
    cache = Lead.owner.field.set_cached_value
    for lead in leads:
        cache(lead, owners.get(lead.owner_id))
    return leads


def _may_fire(now: datetime) -> Q | None:
    """Which leads the ladder may act on now: those of queues that escalate at any hour; of
    queues with their own working hours, while those are on; of the others, while the
    working hours of the agreement judging their form are on. None: nothing may fire."""
    levels = clock.service_levels(None)
    closed = {form_id for form_id, found in levels.items() if not found.is_open(now)}
    queues = Queue.objects.filter(Q(escalate_off_hours=True) | ~Q(time_zone=""))
    anytime, own_open, own_closed = [], [], []
    for queue in queues.only("escalate_off_hours", *_HOURS):
        hours = queue.own_hours()
        if queue.escalate_off_hours:
            anytime.append(queue.pk)
        elif hours is not None and levels:
            some = next(iter(levels.values()))
            (own_open if some.in_hours(*hours).is_open(now) else own_closed).append(queue.pk)
    if not closed and not own_closed:
        return Q()
    if len(closed) == len(levels) and not anytime and not own_open:
        return None
    by_form = ~Q(source_form_id__in=closed) & ~Q(queue_id__in=own_open + own_closed)
    return by_form | Q(queue_id__in=anytime + own_open)


_HOURS = ("business_days", "business_opens", "business_closes", "time_zone")


def _words(leads: list[Lead], queues: dict[int, Queue]):
    """Times as the people who work the lead read them: in its queue's time zone when the
    queue sets its own hours, else the agreement's."""
    levels = clock.service_levels({lead.source_form_id for lead in leads}) if leads else {}

    def words(lead: Lead, moment: datetime) -> str:
        found = levels.get(lead.source_form_id)
        own = queues[lead.queue_id].own_hours() if lead.queue_id in queues else None
        if found is not None and own is not None and found.in_hours is not None:
            found = found.in_hours(*own)
        return found.words(moment) if found else f"{moment:%a %b %d, %H:%M} UTC"

    return words


def _managers(queues) -> dict:
    ids = {queue.manager_id for queue in queues if queue.manager_id}
    return {user.pk: user for user in get_user_model().objects.filter(pk__in=ids, is_active=True)}


def _breach(lead: Lead, queue: Queue | None, words, then: str, now: datetime) -> LeadEvent:
    reason = (
        f"Service level missed by {lead.owner or 'nobody'}: did not {_OWED[lead.due_step]} by "
        f"{words(lead, lead.due_at)}. {then}"
    )
    manager_id = queue.manager_id if queue is not None else None
    return new_sla_breached(lead=lead, manager_id=manager_id, reason=reason, at=now)


def _to_next_rep(lead: Lead, queue: Queue, rep) -> str:
    return (
        f"The escalation ladder of queue {queue.name} gave the lead from {lead.owner or 'nobody'} "
        f"to {rep}, next in turn with room: its time ran out "
        f"(reassignment {lead.escalations + 1} of {queue.max_reassignments})."
    )


def _to_manager(lead: Lead, queue: Queue | None, manager) -> str:
    if queue is None:
        return "It came through no queue: its clock stops, and it stays where it is."
    if lead.escalations >= queue.max_reassignments:
        why = f"its time ran out after {lead.escalations} reassignments"
    else:
        why = "its time ran out and no other rep of the queue has room"
    if manager is None:
        return f"In queue {queue.name} {why}; with no manager named, it stays where it is."
    return f"Handed to {manager}, manager of queue {queue.name}: {why}."


def _reassigned(lead: Lead, to, reason: str, queue: Queue, data: dict, now) -> LeadEvent:
    data = {**data, "queue": queue.pk}
    return new_reassigned(
        lead=lead, from_rep_id=lead.owner_id, to_rep_id=to.pk, reason=reason, at=now, data=data
    )
