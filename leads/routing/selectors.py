from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from leads.lifecycle import OPEN_STAGES
from leads.models import Lead, Stage
from leads.routing import strategies
from leads.routing.models import Absence, Assignment, Availability, Membership, Queue, QueueMember
from leads.routing.rules import routing_attributes

# A manager may hand these to another rep; a rejected lead goes back to routed on the way.
REASSIGNABLE = OPEN_STAGES | {Stage.REJECTED}


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def active_reps() -> QuerySet:
    """Who can be given a lead (by routing, or by a manager): active users who work leads in
    an inbox of their own. Not a superuser, and not whoever sees every lead (a sales manager
    holds leads.work_lead too, but her inbox is everyone's: a lead given to her would be
    nobody's in particular)."""
    users = get_user_model().objects
    return (
        users.filter(_holders("leads.work_lead"), is_active=True, is_superuser=False)
        .exclude(_holders("leads.view_all_leads"))
        .order_by("first_name", "last_name", "username")
    )


def active_rep_ids() -> QuerySet:
    """`active_reps`' ids, as a subquery (routing reads them with its members each batch)."""
    return active_reps().order_by().values("pk")


def _holders(perm: str) -> Q:
    """Users who hold `perm` through one of their groups or directly: ModelBackend's rule
    (what `has_perm` checks), as two subqueries PostgreSQL hashes once. `with_perm` writes
    it as an EXISTS over a join with an OR, run again for every user: 10-12 ms of
    PostgreSQL a routing batch (pg_stat_statements), most of it planning and that join."""
    app_label, codename = perm.split(".")
    permission = Permission.objects.filter(codename=codename, content_type__app_label=app_label)
    user = get_user_model()
    in_groups = user.groups.through.objects.filter(group__permissions__in=permission)
    directly = user.user_permissions.through.objects.filter(permission__in=permission)
    return Q(pk__in=in_groups.values("user_id")) | Q(pk__in=directly.values("user_id"))


def may_reassign(*, user, lead: Lead) -> bool:
    return user.has_perm("leads.reassign_lead") and lead.stage in REASSIGNABLE


def routing_attributes_of(leads) -> dict[int, dict]:
    """What queue rules read of each lead (`rules.routing_attributes`), by lead id: its
    attributes and its form (slug; its name as form_name), campaign and score, in one query."""
    form_model = Lead.source_form.field.related_model
    forms = dict(
        (pk, (slug, name))
        for pk, slug, name in form_model.objects.filter(
            pk__in={lead.source_form_id for lead in leads}
        ).values_list("pk", "slug", "name")
    )
    attributes = {}
    for lead in leads:
        slug, name = forms.get(lead.source_form_id, ("", ""))
        values = routing_attributes(
            lead.attributes, form=slug, campaign=lead.campaign, score=lead.score
        )
        values["form_name"] = name
        attributes[lead.pk] = values
    return attributes


def catch_all_exists() -> bool:
    """Whether an active queue takes every lead (no conditions), so none is left unmatched."""
    return Queue.objects.filter(is_active=True, conditions=[]).exists()


def unrouted_count() -> int:
    """Qualified leads waiting to be routed: no queue took them yet, or none had room."""
    return Lead.objects.filter(stage=Stage.QUALIFIED, route_due_at__isnull=False).count()


def unavailable_reps(rep_ids, *, now) -> dict[int, str]:
    """Why each rep who cannot take a lead now can't (paused, away, outside hours)."""
    if not rep_ids:
        return {}
    why = availability_calendar(rep_ids, since=now, until=now)
    return {rep_id: reason for rep_id in rep_ids if (reason := why(rep_id, now))}


def availability_calendar(rep_ids, *, since, until, paused: bool = True):
    """Why each of these reps could not take a lead at a moment between `since` and `until`
    (`why(rep_id, moment)`: AWAY, OFF_HOURS, PAUSED or None), read in two queries: their
    days away then, and their working days and hours. The pause switch is a state of now,
    not a history: `paused=False` leaves it out (a replay of past leads)."""
    rep_ids = list(rep_ids)
    settings_of = {a.rep_id: a for a in Availability.objects.filter(rep_id__in=rep_ids)}
    # Absences of those days anywhere on earth: the rep's own date is checked by `unavailable`.
    near = Absence.objects.filter(
        rep_id__in=rep_ids,
        first_day__lte=(until + timedelta(days=1)).date(),
        last_day__gte=(since - timedelta(days=1)).date(),
    ).values_list("rep_id", "first_day", "last_day")
    absences: dict[int, list] = {}
    for rep_id, first, last in near:
        absences.setdefault(rep_id, []).append((first, last))

    def why(rep_id: int, moment) -> str | None:
        a = settings_of.get(rep_id)
        return strategies.unavailable(
            now=moment,
            paused=paused and bool(a and a.paused),
            time_zone=a.time_zone if a else settings.TIME_ZONE,
            work_days=a.work_days if a else (),
            starts=a.starts if a else None,
            ends=a.ends if a else None,
            absences=absences.get(rep_id, ()),
        )

    return why


@dataclass
class RepNow:
    rep: object
    unavailable: str | None
    open_leads: int
    today: int
    week: int

    @property
    def why_words(self) -> str:
        return strategies.WHY_WORDS.get(self.unavailable or "", "")


def reps_now(*, now) -> list[RepNow]:
    """Each rep who can be given leads: available now or why not, open leads, and leads the
    queues gave them today and this week (the fairness ledger's counts)."""
    reps = list(active_reps())
    ids = [rep.pk for rep in reps]
    away = unavailable_reps(ids, now=now)
    held = dict(
        Lead.objects.filter(owner_id__in=ids, stage__in=OPEN_STAGES)
        .values_list("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    received = Assignment.objects.filter(
        rep_id__in=ids, queue__isnull=False, credited=False, assigned_at__gte=week
    ).values_list("rep_id", "assigned_at")
    per_day: dict[int, int] = {}
    per_week: dict[int, int] = {}
    for rep_id, at in received:
        per_week[rep_id] = per_week.get(rep_id, 0) + 1
        if at >= today:
            per_day[rep_id] = per_day.get(rep_id, 0) + 1
    return [
        RepNow(
            rep,
            away.get(rep.pk),
            held.get(rep.pk, 0),
            per_day.get(rep.pk, 0),
            per_week.get(rep.pk, 0),
        )
        for rep in reps
    ]


def received_today(queue_ids: list[int], *, now) -> dict[tuple[int, int], int]:
    """Leads each rep got from each of these queues since midnight (the portal's time zone),
    not counting those credited back: what the caps of leads a day count."""
    if not queue_ids:
        return {}
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        Assignment.objects.filter(queue_id__in=queue_ids, assigned_at__gte=midnight, credited=False)
        .values_list("queue_id", "rep_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(q, r): n for q, r, n in rows}


def open_leads_by_rep() -> dict[int, int]:
    """Each rep's open leads (their current load), by rep id."""
    return dict(
        Lead.objects.filter(owner__isnull=False, stage__in=OPEN_STAGES)
        .values_list("owner_id")
        .annotate(n=Count("pk"))
        .order_by()
    )


@dataclass
class Pool:
    waiting: int
    oldest: object  # when the longest-waiting lead qualified

    def age(self, now) -> timedelta:
        return now - self.oldest


def pools(*, now) -> dict[int, Pool]:
    """Each queue's pool: qualified leads it took that no rep could, and since when."""
    rows = (
        Lead.objects.filter(stage=Stage.QUALIFIED, queue__isnull=False)
        .values_list("queue_id")
        .annotate(n=Count("pk"), oldest=Min("stage_changed_at"))
        .order_by()
    )
    return {queue_id: Pool(n, oldest) for queue_id, n, oldest in rows}


def pool_leads(*, queue) -> QuerySet:
    """The leads waiting in a queue's pool, longest-waiting first."""
    return Lead.objects.filter(stage=Stage.QUALIFIED, queue=queue).order_by("stage_changed_at")


@dataclass
class FairnessRow:
    rep: object
    member: bool  # still in the queue (the ledger keeps those who left)
    weight: int
    expected: float  # share, 0..1
    received: int
    credited: int
    open_leads: int
    credits: int
    unavailable: str | None

    def actual(self, total: int) -> float:
        return self.received / total if total else 0.0


def _expected(rep_id: int, owed: dict, counted: int, weights: dict, total_weight: int) -> float:
    """The share of the queue's leads since `since` the rep should have had: by the members
    of each day when it gave leads, else (none given yet) by the members now."""
    if counted:
        return owed.get(rep_id, 0.0) / counted
    return weights.get(rep_id, 0) / total_weight if total_weight else 0.0


def fairness(*, queue: Queue, since, now) -> tuple[list[FairnessRow], int]:
    """The queue's fairness ledger since `since`: per rep, the share they should have had
    (by weight in a weighted queue, equal otherwise, among the members of each day it gave
    leads: `fair_shares_by_day`), the leads the
    queue gave them (credited-back ones apart), their load now and what the turn owes them.
    Read from the assignments, so editing the member list resets nobody. And the total."""
    members = list(queue.members.select_related("rep").order_by("position"))
    routable = set(active_reps().values_list("pk", flat=True))
    counting = [m for m in members if m.is_active and m.rep_id in routable]
    weights = {
        m.rep_id: (m.weight if queue.strategy == Queue.Strategy.WEIGHTED else 1) for m in counting
    }
    total_weight = sum(weights.values())
    by_day = ledger_by_day(Assignment.objects.filter(queue=queue, assigned_at__gte=since))
    ledger: dict[int, list[int]] = {}
    for row in by_day:
        ledger.setdefault(row["rep"], [0, 0])[1 if row["credited"] else 0] += row["n"]
    owed = {rep_id: share for (_, rep_id), share in fair_shares_by_day(by_day).items()}
    counted = sum(received for received, _ in ledger.values())
    reps = {m.rep_id: m.rep for m in members}
    gone = (set(ledger) | set(owed)) - set(reps)
    reps.update({u.pk: u for u in get_user_model().objects.filter(pk__in=gone)})
    held = open_leads_by_rep()
    away = unavailable_reps(list(reps), now=now)
    by_member = {m.rep_id: m for m in members}
    result = []
    for rep_id, rep in reps.items():
        member = by_member.get(rep_id)
        received, credited = ledger.get(rep_id, [0, 0])
        result.append(
            FairnessRow(
                rep=rep,
                member=member is not None,
                weight=member.weight if member else 0,
                expected=_expected(rep_id, owed, counted, weights, total_weight),
                received=received,
                credited=credited,
                open_leads=held.get(rep_id, 0),
                credits=member.credits if member else 0,
                unavailable=away.get(rep_id),
            )
        )
    total = sum(row.received for row in result)
    return result, total


def ledger_by_day(assignments: QuerySet[Assignment]) -> list[dict]:
    """The fairness ledger of these assignments (those with a queue): per queue, its
    strategy, rep, credited or not and local day (TIME_ZONE), how many. One query."""
    return list(
        assignments.filter(queue__isnull=False)
        .annotate(day=TruncDate("assigned_at"))
        .values("queue", "queue__strategy", "rep", "credited", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )


def fair_shares_by_day(ledger: list[dict]) -> dict[tuple[int, int], float]:
    """{(queue id, rep id): leads they should have had} of a `ledger_by_day`: each day's
    counted leads of a queue (credited-back ones apart) shared among those who were its
    members that day (`Membership`) and not away all of it (`Absence`), by weight in a
    weighted queue, equally otherwise. A member now with no spell recorded (made before the
    history was kept, or outside `queue_save`) counts as one since always; a member now who
    is switched off, or whose account no longer takes leads, counts from none of their open
    spells. A day all its members were away is shared among them all; a rep whose weight
    changed that day counts at the later one. Three queries: the spells, the members now, the
    absences."""
    days: dict[tuple[int, date], int] = {}
    weighted: set[int] = set()
    for row in ledger:
        if row["queue__strategy"] == Queue.Strategy.WEIGHTED:
            weighted.add(row["queue"])
        if not row["credited"]:
            key = (row["queue"], row["day"])
            days[key] = days.get(key, 0) + row["n"]
    if not days:
        return {}
    queues = {queue for queue, _ in days}
    zone = timezone.get_current_timezone()
    first, last = min(day for _, day in days), max(day for _, day in days)
    since = datetime.combine(first, time(), zone)
    until = datetime.combine(last + timedelta(days=1), time(), zone)
    # Every spell of these queues (a few rows a membership change): those of the period, and
    # which members have any.
    spells: dict[int, list[tuple[int, int, datetime, datetime | None]]] = {}
    recorded: set[tuple[int, int]] = set()
    for queue_id, rep_id, weight, started, ended in Membership.objects.filter(
        queue_id__in=queues
    ).values_list("queue_id", "rep_id", "weight", "started_at", "ended_at"):
        recorded.add((queue_id, rep_id))
        if started < until and (ended is None or ended > since):
            spells.setdefault(queue_id, []).append((rep_id, weight, started, ended))
    counting = {
        (queue_id, rep_id): weight
        for queue_id, rep_id, weight in QueueMember.objects.filter(
            queue_id__in=queues, is_active=True, rep__in=active_reps().values("pk")
        ).values_list("queue_id", "rep_id", "weight")
    }
    for (queue_id, rep_id), weight in counting.items():
        if (queue_id, rep_id) not in recorded:
            spells.setdefault(queue_id, []).append((rep_id, weight, since, None))
    reps = {rep_id for found in spells.values() for rep_id, *_ in found}
    away: dict[int, list[tuple[date, date]]] = {}
    for rep_id, first_day, last_day in Absence.objects.filter(
        rep_id__in=reps, first_day__lte=last, last_day__gte=first
    ).values_list("rep_id", "first_day", "last_day"):
        away.setdefault(rep_id, []).append((first_day, last_day))

    expected: dict[tuple[int, int], float] = {}
    for (queue_id, day), total in days.items():
        opens = datetime.combine(day, time(), zone)
        closes = datetime.combine(day + timedelta(days=1), time(), zone)
        members: dict[int, int] = {}
        for rep_id, weight, started, ended in spells.get(queue_id, []):
            if started >= closes or (ended is not None and ended <= opens):
                continue
            if ended is None and (queue_id, rep_id) not in counting:
                continue  # switched off now: as the routing passes them over
            members[rep_id] = weight if queue_id in weighted else 1
        present = {
            rep_id: weight
            for rep_id, weight in members.items()
            if not any(a <= day <= b for a, b in away.get(rep_id, []))
        }
        shares = present or members
        whole = sum(shares.values())
        for rep_id, weight in shares.items():
            key = (queue_id, rep_id)
            expected[key] = expected.get(key, 0.0) + total * weight / whole
    return expected
