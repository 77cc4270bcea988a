"""Who gets a qualified lead: the first queue that takes it, the next rep in turn with room."""

import functools
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from leads import locks
from leads.clock import CLOCK_FIELDS, clocks_start
from leads.events import event_reassigned, events_record, new_assigned
from leads.lifecycle import OPEN_STAGES, IllegalMove, lead_move, lead_moved, leads_save
from leads.models import Lead, RejectionReason, Stage
from leads.routing import strategies
from leads.routing.models import (
    Absence,
    Assignment,
    Availability,
    Membership,
    Queue,
    QueueMember,
)
from leads.routing.rules import rulebook
from leads.routing.selectors import (
    REASSIGNABLE,
    active_rep_ids,
    active_reps,
    received_today,
    routing_attributes_of,
    unavailable_reps,
)
from leads.signals import queue_clocks_changed
from portal.errors import DomainError, PermissionDenied
from portal.sql import columns_sql, copy_rows, instances_save, next_ids, rows_save

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
    members = member_rows([q.pk for q in queues])
    locks.ids_locked(get_user_model(), {m.rep_id for ms in members.values() for m in ms})
    now = timezone.now()
    turns = Turns(queues, members, now=now)
    attributes = routing_attributes_of(leads)
    routed, chosen, events, waiting = [], [], [], []
    for lead in leads:
        decision = turns.route(attributes[lead.pk])
        if decision.member is None:
            lead.route_due_at = now + ROUTE_RETRY
            # A lead a queue took but no rep could waits in that queue's pool.
            lead.queue = decision.pool
            waiting.append(lead)
            continue
        routed.append(lead)
        chosen.append(decision)
        events.extend(_assigned(lead, decision, at=now))
    assignments = _assignments_store(routed, chosen, at=now)
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
    leads_save(waiting, ["route_due_at", "queue"])
    turns.save()
    events_record(events)
    if waiting:
        logger.warning(
            "No queue has a rep who can take %d leads (%s); they wait.",
            len(waiting),
            ", ".join(str(lead.pk) for lead in waiting[:10]),
        )
    return assignments


_ASSIGNMENT_COLUMNS = ("id", "lead_id", "queue_id", "rep_id", "assigned_at", "credited")
COPY_ASSIGNMENTS = f"COPY {columns_sql(Assignment, _ASSIGNMENT_COLUMNS)} FROM STDIN"


def _assignments_store(leads: list[Lead], decisions: list["Decision"], *, at) -> list[Assignment]:
    """The batch's assignments, on PostgreSQL one COPY of plain rows, the ids taken from the
    sequence first (`bulk_create` compiled every row: a seventh of routing's time, py-spy);
    elsewhere `bulk_create`. Returned as instances built from ids (the rep and queue are
    read if asked for: the handoff never does)."""
    rows = [
        (lead.pk, d.queue.pk, d.member.rep_id) for lead, d in zip(leads, decisions, strict=True)
    ]
    if connection.vendor != "postgresql":
        return Assignment.objects.bulk_create(
            Assignment(lead_id=lead, queue_id=queue, rep_id=rep, assigned_at=at)
            for lead, queue, rep in rows
        )
    ids = next_ids(Assignment, len(rows))
    copy_rows(COPY_ASSIGNMENTS, [(pk, *row, at, False) for pk, row in zip(ids, rows, strict=True)])
    # As read from the database: every column in order (`from_db`), not keywords, which
    # went through each foreign key's descriptor and default (half of this function, py-spy).
    return [
        Assignment.from_db(connection.alias, None, (pk, lead_id, queue_id, rep_id, at, None, False))
        for pk, (lead_id, queue_id, rep_id) in zip(ids, rows, strict=True)
    ]


def _assigned(lead: Lead, decision: "Decision", *, at) -> list:
    """The lead moved to its rep, in memory, and its two events (the move, the assignment)."""
    queue, member = decision.queue, decision.member
    lead.owner_id, lead.queue, lead.route_due_at = member.rep_id, queue, None
    strategy = _STRATEGY_NAMES[queue.strategy]
    return [
        lead_moved(lead=lead, to=Stage.ROUTED, reason=f"Queue {queue.name} took the lead.", at=at),
        new_assigned(
            lead=lead,
            queue_id=queue.pk,
            rep_id=member.rep_id,
            at=at,
            reason=f"{strategy} in queue {queue.name} assigned the lead to {member.name}.",
            why=decision.why,
        ),
    ]


_STRATEGY_NAMES = {value: label.split(" (")[0] for value, label in Queue.Strategy.choices}


@dataclass(slots=True)
class Decision:
    queue: Queue | None = None
    member: strategies.Member | None = None  # its `name` is the rep's, as `str(rep)` says it
    pool: Queue | None = None  # the first queue that took the lead, when no rep could
    why: dict = field(default_factory=dict)


@dataclass(slots=True)
class MemberRow:
    """A queue member as routing reads it: values, no model (`member_rows`)."""

    pk: int
    queue_id: int
    rep_id: int
    position: int
    weight: int
    stride_pass: float
    credits: int
    open_cap: int | None
    daily_cap: int | None
    name: str  # the rep's, as `str(rep)` says it

    def max_open(self, queue: Queue) -> int | None:
        return self.open_cap if self.open_cap is not None else queue.capacity_per_rep

    def max_per_day(self, queue: Queue) -> int | None:
        return self.daily_cap if self.daily_cap is not None else queue.daily_cap_per_rep


def member_rows(queue_ids: list[int]) -> dict[int, list[MemberRow]]:
    """The members of these queues routing may give leads to, by queue, in turn order, read
    as values. Who may be given a lead is one rule (`active_reps`): a member whose account
    was deactivated, or whose role no longer works leads, stays in the queue but is passed
    over. One statement, built once per process: a model per member and rep, and Django
    building the rule's subqueries again (7 ms of CPU), were a fourteenth of a routing
    batch (py-spy)."""
    with connection.cursor() as cursor:
        cursor.execute(*_member_rows_sql(queue_ids))
        rows = cursor.fetchall()
    members: dict[int, list[MemberRow]] = {}
    for *values, first, last, username in rows:
        name = f"{first} {last}".strip() or username  # `User.__str__`
        members.setdefault(values[1], []).append(MemberRow(*values, name))
    return members


@functools.cache
def _member_rows_statement() -> tuple[str, tuple]:
    """The members' SELECT with the `active_reps` rule compiled in (its SQL names the
    permissions by codename, so it holds for the life of the process)."""
    rule, rule_params = active_rep_ids().query.sql_with_params()
    member, user = QueueMember._meta, get_user_model()._meta
    names = "id, queue_id, rep_id, position, weight, stride_pass, credits, open_cap, daily_cap"
    columns = ", ".join(f"m.{member.get_field(n).column}" for n in names.split(", "))
    return (
        f"SELECT {columns}, u.first_name, u.last_name, u.username "  # noqa: S608 - our names
        f"FROM {member.db_table} m JOIN {user.db_table} u ON u.id = m.rep_id "
        f"WHERE m.is_active AND m.queue_id IN ({{queues}}) AND m.rep_id IN ({rule}) "
        "ORDER BY m.queue_id, m.position",
        tuple(rule_params),
    )


def _member_rows_sql(queue_ids: list[int]) -> tuple[str, list]:
    sql, rule_params = _member_rows_statement()
    queues = ", ".join(["%s"] * len(queue_ids)) or "NULL"
    return sql.replace("{queues}", queues), [*queue_ids, *rule_params]


class Turns:
    """The queues' turns for a batch, read once: who is available, at a cap, owed a lead.

    `route(attributes)` decides one lead and counts it (open leads, the day's, the weighted
    pass, a credit used), so a batch decides as if one by one; `save()` writes the cursors
    and members that moved. Also the simulator's (which never saves).
    """

    def __init__(self, queues: list[Queue], members: dict[int, list[MemberRow]], *, now):
        self.queues = queues
        self.now = now
        # Every queue's conditions in one function, compiled once per configuration.
        self.book = rulebook([queue.conditions for queue in queues])
        reps = {m.rep_id for ms in members.values() for m in ms}
        needs_open = {
            m.rep_id
            for q in queues
            for m in members.get(q.pk, [])
            if m.max_open(q) is not None or q.strategy == Queue.Strategy.LEAST_LOADED
        }
        open_leads = _open_leads(needs_open)
        day_capped = [
            q.pk for q in queues if any(m.max_per_day(q) is not None for m in members.get(q.pk, []))
        ]
        today = received_today(day_capped, now=now)
        away = unavailable_reps(reps, now=now)
        self.state: dict[int, list[strategies.Member]] = {}
        self.by_rep: dict[int, list[strategies.Member]] = {}
        self.member_ids: dict[int, int] = {}  # id(state): its QueueMember's pk
        for queue in queues:
            states = []
            for m in members.get(queue.pk, []):
                state = strategies.Member(
                    rep_id=m.rep_id,
                    position=m.position,
                    name=m.name,
                    weight=m.weight,
                    stride_pass=m.stride_pass,
                    credits=m.credits,
                    open_leads=open_leads.get(m.rep_id, 0),
                    today=today.get((queue.pk, m.rep_id), 0),
                    unavailable=away.get(m.rep_id),
                    own_max_open=m.open_cap,
                    own_max_per_day=m.daily_cap,
                )
                states.append(state)
                self.by_rep.setdefault(m.rep_id, []).append(state)
                self.member_ids[id(state)] = m.pk
            self.state[queue.pk] = states
        self.moved_queues: dict[int, Queue] = {}
        self.moved_members: dict[int, strategies.Member] = {}  # QueueMember pk: its state

    def route(self, attributes: dict) -> Decision:
        passed_over: list[dict] = []
        pool = None
        for queue, failed in zip(self.queues, self.book.failed(attributes), strict=True):
            if failed:
                if len(passed_over) < _PASSED_OVER_KEPT:
                    passed_over.append(
                        {"queue": queue.name, "why": "conditions", "failed": list(failed)}
                    )
                continue
            chosen = strategies.pick(
                queue.strategy,
                self.state.get(queue.pk, []),
                cursor=queue.last_position,
                max_open=queue.capacity_per_rep,
                max_per_day=queue.daily_cap_per_rep,
            )
            skipped = [{"rep": m.rep_id, "name": m.name, "why": why} for m, why in chosen.skipped]
            if chosen.member is None:
                pool = pool or queue
                passed_over.append(
                    {
                        "queue": queue.name,
                        "why": "no_rep" if skipped else "no_members",
                        "skipped": skipped,
                    }
                )
                continue
            self._count(queue, chosen)
            why = {
                "queue": queue.name,
                "strategy": queue.strategy,
                "passed_over": passed_over,
                "skipped": skipped,
                "credited": chosen.credited,
            }
            return Decision(queue, chosen.member, None, why)
        return Decision(None, None, pool, {"passed_over": passed_over})

    def _count(self, queue: Queue, chosen: strategies.Pick) -> None:
        member = chosen.member
        strategies.take(member, chosen)
        for other in self.by_rep[member.rep_id]:  # open leads are the rep's, in every queue
            other.open_leads = member.open_leads
        self.moved_members[self.member_ids[id(member)]] = member
        queue.last_position = member.position
        self.moved_queues[queue.pk] = queue

    def save(self) -> None:
        """The cursors and members that moved, one statement each (a save per queue and
        `bulk_update`'s CASE per member were a tenth of the worker's time, py-spy)."""
        instances_save(self.moved_queues.values(), ["last_position"])
        rows_save(
            QueueMember,
            ["stride_pass", "credits"],
            [(pk, m.stride_pass, m.credits) for pk, m in self.moved_members.items()],
        )


_PASSED_OVER_KEPT = 10  # higher queues an explanation names, at most


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
    """The reps whose open leads must be counted: members with a cap of open leads (their
    own or their queue's). Counting reads every open lead they hold, so a batch for uncapped
    queues skips it."""
    return {m.rep_id for q in queues for m in members.get(q.pk, []) if m.max_open(q) is not None}


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
        cap = member.max_open(queue)
        if cap is None or open_leads.get(member.rep_id, 0) < cap:
            return member
    return None


# What the sales manager sets on a queue's page.
QUEUE_SETTINGS = (
    "name",
    "priority",
    "conditions",
    "strategy",
    "capacity_per_rep",
    "daily_cap_per_rep",
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


def queue_save(
    *,
    queue: Queue,
    reps: Sequence,
    weights: dict[int, int] | None = None,
    caps: dict[int, tuple[int | None, int | None]] | None = None,
) -> Queue:
    """Save a queue's settings and who works it. Reps it keeps keep their place in the turn
    (so the round-robin cursor still points where it did) and their weighted pass; new ones
    join at the end, at the lowest pass of the others (so they do not get every lead until
    they catch up), and those left out leave the queue; their leads stay theirs. `weights`:
    each rep's share in a weighted queue (rep id: weight); `caps`: each rep's own caps (rep
    id: (open leads, leads a day), None the queue's); a rep in neither keeps theirs. The
    queue is locked as routing locks it, so a batch being routed sees it before or after,
    never half-saved. The queue's pool is released after the commit: room, maybe."""
    weights, caps = weights or {}, caps or {}
    with transaction.atomic():
        if queue.pk:
            before = locks.rows_locked(Queue, [queue.pk])[0]
            # Not the round-robin cursor: routing may have moved it since the page was read.
            queue.save(update_fields=QUEUE_SETTINGS)
            changed = [n for n in CLOCK_SETTINGS if getattr(before, n) != getattr(queue, n)]
            if changed:
                queue_clocks_changed.send(sender=Queue, queue_id=queue.pk, queue_name=queue.name)
        else:
            queue.save()
        wanted = [rep.pk for rep in reps]
        members = QueueMember.objects.filter(queue=queue)
        leaving = list(members.exclude(rep__in=wanted).values_list("rep_id", flat=True))
        members.exclude(rep__in=wanted).delete()
        kept = {m.rep_id: m for m in members}
        spells_now = dict(
            Membership.objects.filter(queue=queue, ended_at__isnull=True).values_list(
                "rep_id", "weight"
            )
        )
        position = max((m.position for m in kept.values()), default=-1) + 1
        start = min((m.stride_pass for m in kept.values()), default=0.0)
        joining, changed = [], []
        for rep_id in wanted:
            member = kept.get(rep_id)
            if member is None:
                member = QueueMember(queue=queue, rep_id=rep_id, position=position)
                member.stride_pass = start
                joining.append(member)
                position += 1
            settings_before = (member.weight, member.open_cap, member.daily_cap)
            member.weight = weights.get(rep_id) or member.weight
            if rep_id in caps:
                member.open_cap, member.daily_cap = caps[rep_id]
            if member.pk and (member.weight, member.open_cap, member.daily_cap) != settings_before:
                changed.append(member)
        QueueMember.objects.bulk_create(joining)
        QueueMember.objects.bulk_update(changed, ["weight", "open_cap", "daily_cap"])
        reweighted = [m for m in changed if m.weight != spells_now.get(m.rep_id, m.weight)]
        _spells_record(queue, ends=[*leaving, *(m.rep_id for m in reweighted)],
                       starts=[*joining, *reweighted])  # fmt: skip
        release_after_commit(queue_ids=[queue.pk])
    return queue


def _spells_record(queue: Queue, *, ends: Sequence[int], starts: Sequence[QueueMember]) -> None:
    """The membership history (`Membership`): the spells of `ends` (rep ids) end now, and
    `starts` begin one at their weight. The fair share of a period reads it."""
    now = timezone.now()
    if ends:
        Membership.objects.filter(queue=queue, rep_id__in=ends, ended_at__isnull=True).update(
            ended_at=now
        )
    Membership.objects.bulk_create(
        Membership(queue=queue, rep_id=m.rep_id, weight=m.weight, started_at=now) for m in starts
    )


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
        from_rep, held = lead.owner, lead.stage in OPEN_STAGES
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
        if held and from_rep is not None:
            release_after_commit(rep_ids=[from_rep.pk])  # one lead fewer to hold
        event_reassigned(
            lead=lead,
            from_rep=from_rep,
            to_rep=to_rep,
            by=by,
            reason=f"{by} gave the lead from {from_rep or 'nobody'} to {to_rep}: {reason}",
        )
    return assignment


# Availability: set once by the rep or their manager, read by every queue ------------------


def may_set_availability(*, user, rep) -> bool:
    """A rep sets their own; whoever manages the queues sets anyone's."""
    if user.has_perm("routing.change_queue"):
        return True
    return user.pk == rep.pk and user.has_perm("leads.work_lead")


def availability_of(rep) -> Availability:
    """The rep's availability; an unsaved default (always available) when never set."""
    try:
        return rep.availability
    except Availability.DoesNotExist:
        return Availability(rep=rep)


def availability_save(*, availability: Availability, by) -> Availability:
    """Save a rep's pause switch, days and hours; leads waiting for a rep are tried again."""
    if not may_set_availability(user=by, rep=availability.rep):
        raise PermissionDenied(f"{by} may not set {availability.rep}'s availability.")
    with transaction.atomic():
        locks.rows_locked(get_user_model(), [availability.rep_id])  # as routing locks reps
        availability.updated_by = by
        availability.save()
        release_after_commit(rep_ids=[availability.rep_id])  # unpaused, longer hours...
    return availability


def absence_add(*, absence: Absence, by) -> Absence:
    if not may_set_availability(user=by, rep=absence.rep):
        raise PermissionDenied(f"{by} may not set {absence.rep}'s days away.")
    with transaction.atomic():
        locks.rows_locked(get_user_model(), [absence.rep_id])
        absence.created_by = by
        absence.save()
    return absence


def absence_remove(*, absence: Absence, by) -> None:
    """The rep is back (or never left): leads waiting for a rep are tried again."""
    if not may_set_availability(user=by, rep=absence.rep):
        raise PermissionDenied(f"{by} may not change {absence.rep}'s days away.")
    with transaction.atomic():
        locks.rows_locked(get_user_model(), [absence.rep_id])
        absence.delete()
        release_after_commit(rep_ids=[absence.rep_id])


# The pool: leads a queue took that no rep could, routed again the moment a rep may take one --


def release_after_commit(*, queue_ids: Collection[int] = (), rep_ids: Collection[int] = ()):
    """After this transaction commits, release the pools these queues (or the queues of these
    reps) may take from: a rep's load dropped, a rep is back, a cap was raised. One message per
    transaction however often it is asked (`pools_release` does the work); beat's sweep of
    due leads stands behind a lost one."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _Release(queue_ids, rep_ids)()
        return
    for entry in connection.run_on_commit:
        if isinstance(entry[1], _Release) and not entry[1].done:
            entry[1].add(queue_ids, rep_ids)
            return
    transaction.on_commit(_Release(queue_ids, rep_ids))


class _Release:
    """One release waiting for the commit of the transaction that asked for it."""

    def __init__(self, queue_ids: Collection[int], rep_ids: Collection[int]) -> None:
        self.queue_ids, self.rep_ids, self.done = set(queue_ids), set(rep_ids), False

    def add(self, queue_ids: Collection[int], rep_ids: Collection[int]) -> None:
        self.queue_ids.update(queue_ids)
        self.rep_ids.update(rep_ids)

    def __call__(self) -> None:
        self.done = True
        # By name: the task's module (the handoff's) imports this one.
        release_pools = current_app.tasks[RELEASE_TASK]
        try:
            release_pools.apply_async((sorted(self.queue_ids), sorted(self.rep_ids)), retry=False)
        except BrokerError as error:
            logger.warning("Could not queue a pool release; the sweep will route them: %s", error)


RELEASE_TASK = "routing.release_pools"  # leads/handoff/tasks.py
RELEASE_BATCH = settings.LEADBRIDGE_HANDOFF_BATCH


def pools_release(*, queue_ids: Collection[int] = (), rep_ids: Collection[int] = ()) -> int:
    """Route the leads waiting in the pools that these queues (and the active queues of these
    reps) may take, longest waiting first; how many were assigned.

    A lead waits in the pool of the first queue that took it and may go to any queue tried
    after it that takes it, so the pools read are those of the queues tried up to the last of
    these (and, for a queue just saved, the leads no queue took). Of their leads, those one
    of these queues takes are routed, a batch at a time, each claimed with SKIP LOCKED as the
    handoff claims them (a lead another release or the handoff holds is theirs; one already
    routed no longer waits), until a batch finds nobody with room. Leads still waiting are
    tried by the sweep as before."""
    queues = list(
        Queue.objects.filter(is_active=True)
        .filter(
            Q(pk__in=list(queue_ids))
            | Q(members__rep_id__in=list(rep_ids), members__is_active=True)
        )
        .distinct()
    )
    if not queues:
        return 0
    last = max((q.priority, q.name) for q in queues)
    pools = [
        pk
        for pk, priority, name in Queue.objects.values_list("pk", "priority", "name")
        if (priority, name) <= last
    ]
    in_pools = Q(queue_id__in=pools)
    if queue_ids:  # a queue saved may take what no queue took (on no queue's pool)
        in_pools |= Q(queue__isnull=True)
    rules = [queue.rule for queue in queues]
    after, assigned = None, 0
    while True:
        with transaction.atomic():
            waiting = Lead.objects.filter(in_pools, stage=Stage.QUALIFIED)
            if after is not None:
                waiting = waiting.filter(
                    Q(stage_changed_at__gt=after[0]) | Q(stage_changed_at=after[0], pk__gt=after[1])
                )
            claimed = waiting.order_by("stage_changed_at", "pk").select_for_update(
                skip_locked=True, of=("self",)
            )
            page = list(claimed[:RELEASE_BATCH])
            if not page:
                return assigned
            after = (page[-1].stage_changed_at, page[-1].pk)
            attributes = routing_attributes_of(page)
            takers = [lead for lead in page if any(r.takes(attributes[lead.pk]) for r in rules)]
            routed = leads_route(leads=takers) if takers else []
        assigned += len(routed)
        if (takers and not routed) or len(page) < RELEASE_BATCH:
            return assigned


# Fairness: credit-back --------------------------------------------------------------------

# A rep who rejects a lead for one of these got no real lead: the turn owes them one.
INVALID_REASONS = frozenset({RejectionReason.NOT_A_PERSON, RejectionReason.DUPLICATE})


def lead_rejected_as_invalid(*, lead: Lead, rep, reason: str) -> bool:
    """Credit a rep back for a lead a queue gave them that was no real lead (not a real
    person, spam, a duplicate): the assignment leaves their ledger and the queue's turn gives
    them the next lead they can take. Inside the rejection's transaction (lead locked first,
    then the queue, as routing locks them). Only the queue's own assignment to this rep is
    credited: a manager's reassignment, or a lead the ladder took from another rep after a
    breach, credits nobody else. Whether a credit was given."""
    if reason not in INVALID_REASONS:
        return False
    assignment = (
        Assignment.objects.filter(lead=lead, rep=rep, queue__isnull=False, credited=False)
        .order_by("-assigned_at", "-pk")
        .first()
    )
    if assignment is None:
        return False
    locks.rows_locked(Queue, [assignment.queue_id])
    assignment.credited = True
    assignment.save(update_fields=["credited"])
    QueueMember.objects.filter(queue_id=assignment.queue_id, rep=rep).update(
        credits=F("credits") + 1
    )
    return True
