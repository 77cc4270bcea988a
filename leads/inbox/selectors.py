from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import dateformat

from leads.capture.models import Form
from leads.clock import STEPS
from leads.lifecycle import OPEN_STAGES
from leads.models import (
    ContactChannel,
    Lead,
    LeadEvent,
    LostReason,
    RejectionReason,
    RepeatSubmissionNotice,
    Stage,
    Submission,
)
from leads.routing.models import Queue
from leads.routing.selectors import active_reps
from leads.routing.strategies import why_sentences
from portal.durations import duration_words
from scoring.selectors import qualifying_reasons

# A lead already contacted (or further) takes more contacts without changing stage.
CONTACT_AGAIN = frozenset({Stage.CONTACTED, Stage.OPPORTUNITY})
# A rep may say a lead should not have qualified while it is theirs, and once they rejected it.
FLAGGABLE = OPEN_STAGES | {Stage.REJECTED}


def leads_visible_to(*, user) -> QuerySet[Lead]:
    """Every lead for those who may see them all; a rep sees only the leads they own."""
    leads = Lead.objects.select_related("owner", "queue", "source_form")
    if user.has_perm("leads.view_all_leads"):
        return leads
    if user.has_perm("leads.work_lead"):
        return leads.filter(owner=user)
    return leads.none()


def inbox_for(*, user, stage: str = "", search: str = "") -> QuerySet[Lead]:
    """The leads a user works or oversees, newest activity first, filtered as asked."""
    leads = leads_visible_to(user=user)
    if stage:
        leads = leads.filter(stage=stage)
    return _searched(leads, search).order_by("-stage_changed_at", "-pk")


# The inbox's tabs: "Needs action" holds the leads a rep is working; what is done (won,
# lost), sent back (rejected) or waiting in nurture has its own tab; "All" is every lead.
@dataclass(frozen=True)
class Tab:
    name: str
    label: str
    stages: frozenset[str] | None  # None: every stage


NEEDS_ACTION = "needs_action"
TABS = {
    tab.name: tab
    for tab in [
        Tab(NEEDS_ACTION, "Needs action", OPEN_STAGES),
        Tab("rejected", "Rejected", frozenset({Stage.REJECTED})),
        Tab("won", "Won", frozenset({Stage.WON})),
        Tab("lost", "Lost", frozenset({Stage.LOST})),
        Tab("nurture", "Nurture", frozenset({Stage.RECYCLED, Stage.DISQUALIFIED})),
        Tab("all", "All", None),
    ]
}

# The state of a lead's service-level clock (`due_at`), now.
OVERDUE, DUE_SOON, ON_TIME = "overdue", "due_soon", "on_time"
DUE_STATES = {OVERDUE: "Overdue", DUE_SOON: "Due soon", ON_TIME: "On time"}
# A clock is "due soon" (amber) from the moment its queue's escalation ladder reminds the rep
# (`Lead.due_soon_at`: the queue's reminder share of the step's working time), whether or not
# the reminder has gone yet; a queue that never reminds shows no amber.


def with_due_state(leads: QuerySet[Lead], *, now: datetime) -> QuerySet[Lead]:
    """Each lead's `due_state`: overdue, due soon, on time, or "" (no clock runs), and
    its `time_left` to the due time."""
    at = Value(now, output_field=DateTimeField())
    return leads.annotate(
        time_left=ExpressionWrapper(F("due_at") - at, output_field=DurationField()),
        due_state=Case(
            *(When(due_where(state, now=now), then=Value(state)) for state in DUE_STATES),
            default=Value(""),  # no clock runs: `due_at` is null, no state's condition holds
            output_field=CharField(),
        ),
    )


def due_where(due: str, *, now: datetime) -> Q:
    """The leads in a due state, on the columns themselves: the one definition of the states
    (`with_due_state` names each lead's by it), and a filter an index reads as a range of
    `due_at`, where one on the computed state read every open lead (at 1,000,000 leads
    80-220 ms for a page, docs/inbox.md)."""
    if due == OVERDUE:
        return Q(due_at__lte=now)
    if due == DUE_SOON:
        return Q(due_at__gt=now, due_soon_at__lte=now)
    return Q(due_at__gt=now) & (Q(due_soon_at__isnull=True) | Q(due_soon_at__gt=now))


@dataclass(frozen=True)
class InboxFilters:
    tab: str = NEEDS_ACTION
    stage: str = ""
    queue: int | None = None
    form: int | None = None
    due: str = ""
    search: str = ""
    owner: int | None = None  # for those who see every lead: whose (a manager's own list)

    @classmethod
    def read(cls, params) -> "InboxFilters":
        """The filters from a query string; anything not understood is no filter."""
        tab = params.get("tab", "")
        stage = params.get("stage", "")
        stage = stage if stage in Stage.values else ""
        tab = tab if tab in TABS else NEEDS_ACTION
        if stage and stage not in (TABS[tab].stages or Stage.values):
            tab = tab_of(stage)  # a link to a stage (the dashboard's, an import's) opens its tab
        due = params.get("due", "")
        return cls(
            tab=tab,
            stage=stage,
            queue=_number(params.get("queue")),
            form=_number(params.get("form")),
            due=due if due in DUE_STATES else "",
            search=params.get("q", "").strip()[:200],
            owner=_number(params.get("owner")),
        )


def tab_of(stage: str) -> str:
    """The tab that lists `stage`: its own, or "All" (captured, qualified)."""
    return next((tab.name for tab in TABS.values() if tab.stages and stage in tab.stages), "all")


def _number(value) -> int | None:
    """A row id; anything else (or longer than a bigint's digits) is no filter, never a 500."""
    return int(value) if value and str(value).isdigit() and len(str(value)) < 19 else None


# The most a list counts: past it a tab says "1,000+", the filters list their choices without
# counts and the pages end there (as CRM list views do). Counting every one of a manager's
# 400,000 open leads took longer than reading the page.
COUNT_CAP = 1_000


def capped_count(leads: QuerySet, cap: int) -> int:
    """How many leads, reading at most `cap + 1` of them: more than `cap` means "cap+"."""
    return leads.order_by()[: cap + 1].count()


@dataclass
class Facet:
    """One filter's choices, each with how many leads it would show (the other filters kept);
    the count is None when the list is too long to count."""

    name: str
    label: str
    every: str
    chosen: str
    choices: list[tuple[str, str, int | None]] = field(default_factory=list)  # (value, label, n)


@dataclass
class Inbox:
    filters: InboxFilters
    leads: QuerySet[Lead]  # in the tab's order, filtered, with `due_state` and repeats
    tabs: list[tuple[Tab, int]]  # counted up to `cap + 1`
    # Routed leads not yet accepted or rejected among those the user sees: a rep's own (for
    # them to accept), every rep's for a manager. The caption's and the tab title's count.
    waiting: int
    facets: list[Facet]
    listed: int  # the leads the filters leave, counted up to `cap + 1`
    cap: int = COUNT_CAP

    @property
    def cap_label(self) -> str:
        return f"{self.cap:,}+"

    @property
    def capped(self) -> bool:
        """The list is longer than the cap: only its first `cap` leads are paged."""
        return self.listed > self.cap


def inbox(*, user, filters: InboxFilters, now: datetime) -> Inbox:
    """The user's inbox: the tab's leads filtered as asked, the tabs' and the filters' counts.

    A fixed number of queries however many leads there are, each reading at most `COUNT_CAP`
    leads (a count per tab, one of the list) or, under the cap, a facet's few; the page's rows
    are read by the paginator.
    """
    cap = COUNT_CAP
    visible = leads_visible_to(user=user)
    counted = {
        tab.name: capped_count(
            visible if tab.stages is None else visible.filter(stage__in=tab.stages), cap
        )
        for tab in TABS.values()
    }
    counted["waiting"] = capped_count(visible.filter(stage=Stage.ROUTED), cap)
    tab = TABS[filters.tab]
    base = visible if tab.stages is None else visible.filter(stage__in=tab.stages)
    base = with_due_state(_searched(base, filters.search), now=now)
    wheres = {
        "stage": Q(stage=filters.stage) if filters.stage else Q(),
        "queue": Q(queue_id=filters.queue) if filters.queue else Q(),
        "form": Q(source_form_id=filters.form) if filters.form else Q(),
        "due": due_where(filters.due, now=now) if filters.due else Q(),
        "owner": Q(owner_id=filters.owner) if filters.owner else Q(),
    }

    def but(name: str) -> QuerySet[Lead]:
        return base.filter(*(where for key, where in wheres.items() if key != name))

    leads = base.filter(*wheres.values())
    if tab.name == NEEDS_ACTION and filters.stage and filters.stage not in STEPS:
        # A stage without a clock has no `due_at`: the same order, read from the stage's
        # leads in `(stage, stage_changed_at)`, not by walking past every open clock in
        # `lead_open_idx` (142,543 rows for a page at 1,000,000 leads, docs/inbox.md).
        leads = leads.order_by("stage_changed_at", "pk")
    elif tab.name == NEEDS_ACTION:
        leads = leads.order_by(F("due_at").asc(nulls_last=True), "stage_changed_at", "pk")
    else:
        leads = leads.order_by("-stage_changed_at", "-pk")
    # Each facet counts within the tab (its own filter left out): exact while the tab is
    # under the cap, else no counts, the choices read from their own tables.
    whole = capped_count(base, cap) if filters.search else counted[tab.name]
    facets = _facets(tab, filters, but if whole <= cap else None)
    if user.has_perm("leads.view_all_leads"):
        facets.append(_owners(but("owner") if whole <= cap else None, user, filters.owner))
    return Inbox(
        filters=filters,
        leads=with_unseen_repeats(leads),
        tabs=[(tab, counted[tab.name]) for tab in TABS.values()],
        waiting=counted["waiting"],
        facets=facets,
        listed=capped_count(leads, cap),
        cap=cap,
    )


def _tab_stages(tab: Tab) -> list[str]:
    return [value for value in Stage.values if tab.stages is None or value in tab.stages]


def _facets(tab: Tab, filters: InboxFilters, but=None) -> list[Facet]:
    """The stage, queue, form and due filters. Given `but` (the tab's leads with one filter
    left out: only while the tab is under the cap), each choice says how many leads it would
    show, and the queues and forms are those the leads name; without it, every choice there
    is, uncounted: counting them in a list past the cap would read it all."""
    if but is None:
        stages = dues = None
        queues = [(pk, name, None) for pk, name in Queue.objects.values_list("pk", "name")]
        forms = [(pk, name, None) for pk, name in Form.objects.values_list("pk", "name")]
    else:
        stages = dict(_counted(but("stage"), "stage"))
        dues = dict(_counted(but("due"), "due_state"))
        queues = [row for row in _counted(but("queue"), "queue_id", "queue__name") if row[0]]
        forms = list(_counted(but("form"), "source_form_id", "source_form__name"))

    def n(counts: dict | None, value: str) -> int | None:
        return None if counts is None else counts.get(value, 0)

    def by_name(rows) -> list[tuple[str, str, int | None]]:
        return [(str(pk), name, k) for pk, name, k in sorted(rows, key=lambda r: (r[1], r[0]))]

    return [
        Facet(
            "stage",
            "Stage",
            "All stages",
            filters.stage,
            [(value, Stage(value).label, n(stages, value)) for value in _tab_stages(tab)],
        ),
        Facet("queue", "Queue", "All queues", str(filters.queue or ""), by_name(queues)),
        Facet("form", "Form", "All forms", str(filters.form or ""), by_name(forms)),
        Facet(
            "due",
            "Due",
            "Any due time",
            filters.due,
            [(value, label, n(dues, value)) for value, label in DUE_STATES.items()],
        ),
    ]


def _counted(leads: QuerySet[Lead], *columns: str) -> QuerySet:
    """(*columns, n): how many leads have each value of `columns`."""
    return leads.order_by().values_list(*columns).annotate(n=Count("pk"))


def _owners(leads: QuerySet[Lead] | None, user, chosen: int | None) -> Facet:
    """Whose leads, for those who see everyone's: "Mine" first (what the escalation ladder
    handed to a manager is on their own list), then each owner by name, "(inactive)" after
    an account switched off: the leads of someone who left are found, to hand them on.
    Without `leads` (a list past the cap) the choices are the reps and the inactive owners,
    uncounted."""
    if leads is None:
        owners = (
            get_user_model()
            .objects.filter(
                Q(pk__in=active_reps().values("pk"))
                | Q(Exists(Lead.objects.filter(owner_id=OuterRef("pk"))), is_active=False)
            )
            .exclude(pk=user.pk)
            .order_by("first_name", "last_name", "username")
        )
        others = [
            (
                str(owner.pk),
                _owner_name(
                    owner.first_name, owner.last_name, owner.username, active=owner.is_active
                ),
                None,
            )
            for owner in owners
        ]
        return Facet(
            "owner", "Owner", "Anyone's", str(chosen or ""), [(str(user.pk), "Mine", None), *others]
        )
    rows = (
        leads.order_by()
        .values_list(
            "owner_id",
            "owner__first_name",
            "owner__last_name",
            "owner__username",
            "owner__is_active",
        )
        .annotate(n=Count("pk"))
    )
    mine, others = [(str(user.pk), "Mine", 0)], []
    for pk, first, last, username, active, n in rows:
        if pk == user.pk:
            mine = [(str(pk), "Mine", n)]
        elif pk is not None:
            others.append((str(pk), _owner_name(first, last, username, active=active), n))
    choices = mine + sorted(others, key=lambda choice: choice[1])
    return Facet("owner", "Owner", "Anyone's", str(chosen or ""), choices)


def _owner_name(first: str, last: str, username: str, *, active: bool) -> str:
    name = f"{first} {last}".strip() or username
    return name if active else f"{name} (inactive)"


def _searched(leads: QuerySet[Lead], search: str) -> QuerySet[Lead]:
    if not search:
        return leads
    return leads.filter(
        Q(email__icontains=search)
        | Q(company__icontains=search)
        | Q(first_name__icontains=search)
        | Q(last_name__icontains=search)
    )


def with_unseen_repeats(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Each lead marked `submitted_again` while a repeat submission waits to be seen."""
    unseen = RepeatSubmissionNotice.objects.filter(lead=OuterRef("pk"), seen_at__isnull=True)
    return leads.annotate(submitted_again=Exists(unseen))


def unseen_repeats(*, lead: Lead, user) -> list[RepeatSubmissionNotice]:
    """The repeat submissions the lead's owner has not acknowledged; shown to the owner only."""
    if lead.owner_id is None or lead.owner_id != user.pk:
        return []
    return list(
        lead.repeat_notices.filter(seen_at__isnull=True).select_related(
            "submission__form", "submission__form_version"
        )
    )


def leads_for_export(*, user, stage: str = "", search: str = "") -> QuerySet[Lead]:
    """The list's leads (same filters), each with its first submission's page and UTM tags,
    read in the same query (a subquery per row, no query per lead)."""
    first = Submission.objects.filter(lead=OuterRef("pk")).order_by("received_at", "pk")
    return inbox_for(user=user, stage=stage, search=search).annotate(
        first_utm=Subquery(first.values("utm")[:1], output_field=JSONField()),
        first_page_url=Subquery(first.values("page_url")[:1]),
    )


# Who may do what. The services ask these again under the lead's row lock.


def may_work(*, user, lead: Lead) -> bool:
    """The rep's moves (accept, reject, contact, convert, win, lose) belong to the owner."""
    return user.has_perm("leads.work_lead") and lead.owner_id == user.pk


def may_recycle(*, user, lead: Lead) -> bool:
    """The owner, or for a lead sales sent back, a manager deciding where it goes next."""
    return may_work(user=user, lead=lead) or (
        lead.stage == Stage.REJECTED and user.has_perm("leads.reassign_lead")
    )


def lead_was_qualified(lead: Lead) -> bool:
    """A judgement in force qualified the lead: there is a criterion to flag."""
    return lead.qualifications.filter(superseded_at__isnull=True, qualified=True).exists()


def may_note(*, user, lead: Lead) -> bool:
    return may_work(user=user, lead=lead) or user.has_perm("leads.view_all_leads")


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    title: str
    actor: str
    at: datetime
    text: str
    details: tuple[str, ...] = ()
    why: tuple[str, ...] = ()  # routing's explanation of an assignment


def lead_timeline(*, lead: Lead) -> list[TimelineEntry]:
    """The lead's events, oldest first, each said in words a person reads."""
    events = list(lead.events.select_related("actor"))
    user_ids = {
        event.data.get(key)
        for event in events
        for key in ("from_rep", "to_rep", "rep")
        if event.data.get(key)
    }
    users = {user.pk: str(user) for user in get_user_model().objects.filter(pk__in=user_ids)}
    return [_entry(event, users) for event in events]


def _entry(event: LeadEvent, users: dict[int, str]) -> TimelineEntry:
    Kind = LeadEvent.Kind
    data = event.data
    details = []
    if data.get("channel") in ContactChannel.values:
        details.append(f"Channel: {ContactChannel(data['channel']).label}")
    if event.reason_code:
        details.append(f"Reason: {_reason_label(event)}")
    if data.get("nurture_until"):
        details.append(f"In nurture until {_day(date.fromisoformat(data['nurture_until']))}")
    if event.kind == Kind.STAGE_CHANGED:
        title = event.get_to_stage_display()
        if event.from_stage:
            title = f"{event.get_from_stage_display()} → {title}"
    elif event.kind == Kind.ASSIGNED:
        title = f"Assigned to {users.get(data.get('rep'), 'a rep')}"
    elif event.kind == Kind.REASSIGNED:
        title = (
            f"Reassigned from {users.get(data.get('from_rep'), 'nobody')} "
            f"to {users.get(data.get('to_rep'), 'a rep')}"
        )
    elif event.kind == Kind.CONTACT_LOGGED:
        title = f"{_channel(data.get('channel'))} logged"
    else:
        title = event.get_kind_display()
    return TimelineEntry(
        kind=event.kind,
        title=title,
        actor=event.actor_name,
        at=event.at,
        text=event.reason,
        details=tuple(details),
        why=tuple(why_sentences(data["why"])) if isinstance(data.get("why"), dict) else (),
    )


def _reason_label(event: LeadEvent) -> str:
    reasons = LostReason if event.to_stage == Stage.LOST else RejectionReason
    return dict(reasons.choices).get(event.reason_code, event.reason_code)


def _channel(value) -> str:
    return ContactChannel(value).label if value in ContactChannel.values else "Contact"


def _day(day: date) -> str:
    return dateformat.format(day, "M j, Y")


@dataclass(frozen=True)
class InboxRow:
    """One lead as the inbox lists it."""

    lead: Lead
    why: list[str]  # why it qualified, in a few words
    due_state: str
    time_left: str  # "2 h 5 min left", "35 min overdue"; "" without a clock


def inbox_rows(*, leads: list[Lead], now: datetime) -> list[InboxRow]:
    """The page's leads (from `inbox`) with the words each row shows. One query."""
    why = qualifying_reasons(lead_ids=[lead.pk for lead in leads])
    return [
        InboxRow(lead, why.get(lead.pk, []), lead.due_state, time_left_words(lead.due_at, now))
        for lead in leads
    ]


def time_left_words(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return ""
    if due_at <= now:
        return f"{_time_words(now - due_at)} overdue"
    return f"{_time_words(due_at - now)} left"


def _time_words(delta: timedelta) -> str:
    return "under a minute" if delta < timedelta(minutes=1) else duration_words(delta)
