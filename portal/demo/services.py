"""Demo data made through the real services, so every demo lead has a true history.

Leads are captured, scored and routed by the same code the portal runs; reps then work
them. Afterwards each lead's timestamps are moved back to a day in the last 90, keeping
the order of its events, so the dashboard has a believable quarter to show.
"""

import random
from bisect import bisect_right
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from leads.capture.models import Form, FormField
from leads.capture.services import Provenance, form_publish, lead_capture
from leads.inbox.services import (
    lead_accept,
    lead_contact,
    lead_convert,
    lead_lose,
    lead_note_add,
    lead_recycle,
    lead_reject,
    lead_win,
)
from leads.models import (
    ContactChannel,
    Lead,
    LeadEvent,
    LostReason,
    RejectionReason,
    Stage,
    Submission,
)
from leads.routing.models import Queue, QueueMember
from leads.routing.services import lead_reassign, lead_route
from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.celery import app as celery_app
from portal.integrations.webhooks.models import Endpoint
from portal.notifications.models import Notification
from scoring.models import Agreement, Criterion, Qualification
from scoring.services import agreement_propose, agreement_sign, submission_qualify

DEMO_PASSWORD = "leadbridge-demo"  # noqa: S105 - documented in the README, demo only

DEMO_USERS = [
    ("marketer", "Maya", "Marketer", Role.MARKETER),
    ("marketing.manager", "Mark", "Manning", Role.MARKETING_MANAGER),
    ("sales.manager", "Sara", "Salles", Role.SALES_MANAGER),
    ("rep.ana", "Ana", "Souza", Role.SALES_REP),
    ("rep.bruno", "Bruno", "Lima", Role.SALES_REP),
    ("rep.carla", "Carla", "Reyes", Role.SALES_REP),
    ("rep.dan", "Dan", "Walker", Role.SALES_REP),
    ("admin", "Ada", "Admin", Role.ADMIN),
]

# ISO 3166-1 codes, as the forms' country fields store them (and name them on pages).
COUNTRIES = ["BR"] * 6 + ["US"] * 2 + ["PT", "MX", "DE", "IN"]
TERRITORY = ["BR", "US", "PT", "MX"]
FREE_MAIL = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]
# Channel names as in the Olist marketing-funnel data set (shared/data/olist).
ORIGINS = (
    ["organic_search"] * 4
    + ["paid_search"] * 3
    + ["social"] * 2
    + [
        "email",
        "referral",
        "direct_traffic",
        "display",
    ]
)
FIRST_NAMES = [
    "Ana",
    "Beatriz",
    "Carlos",
    "Daniela",
    "Eduardo",
    "Fernanda",
    "Gabriel",
    "Helena",
    "Igor",
    "Julia",
    "Lucas",
    "Mariana",
    "Nicolas",
    "Olivia",
    "Pedro",
    "Rafaela",
    "Samuel",
    "Tatiana",
    "Vitor",
    "Yasmin",
    "James",
    "Emma",
    "Liam",
    "Sofia",
]
LAST_NAMES = [
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Pereira",
    "Costa",
    "Rodrigues",
    "Almeida",
    "Nascimento",
    "Lima",
    "Araujo",
    "Fernandes",
    "Carvalho",
    "Gomes",
    "Martins",
    "Rocha",
    "Smith",
    "Johnson",
    "Garcia",
]
COMPANIES = [
    "Acme",
    "Bravo",
    "Cedro",
    "Delta",
    "Estrela",
    "Fortaleza",
    "Girassol",
    "Horizonte",
    "Ipe",
    "Jatoba",
    "Kappa",
    "Lumen",
    "Mosaico",
    "Norte",
    "Orion",
    "Prisma",
    "Quantum",
    "Rio",
    "Solaris",
    "Terra",
    "Urbano",
    "Vale",
    "Wave",
    "Xingu",
    "Zenite",
]
JOB_TITLES = ["CEO", "Head of Sales", "Marketing Manager", "Buyer", "Owner", "Student", ""]
CONTACT_NOTES = [
    "Spoke to the buyer; they sell on two marketplaces today.",
    "Left a voicemail, then they called back.",
    "Sent the onboarding deck and prices.",
    "Demo of the seller dashboard with their ops team.",
    "",
    "",
]
REP_NOTES = [
    "Decision maker is the CFO; budget is set in January.",
    "Prefers WhatsApp to e-mail.",
    "Asked for a case study from their sector.",
    "Was a customer in 2023 and left over shipping costs.",
]
MANAGER_NOTES = ["Big account: keep me posted.", "Same group as one of our top sellers."]


@dataclass
class DemoSummary:
    users: int
    leads: int


def demo_seed(*, leads: int = 300, seed: int = 7) -> DemoSummary:
    rng = random.Random(seed)
    with _tasks_in_process():
        return _seed(rng, leads)


@contextmanager
def _tasks_in_process():
    """Demo leads are backdated as soon as they are made, so no worker may be behind."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous


def _seed(rng: random.Random, leads: int) -> DemoSummary:
    users = {
        username: _user(username, first, last, role) for username, first, last, role in DEMO_USERS
    }
    form = _form(users["marketer"])
    _agreement(users["marketing.manager"], users["sales.manager"])
    _queues(users)
    _webhook_endpoint(users["sales.manager"])
    for n in range(leads):
        _demo_lead(rng, form, n, manager=users["sales.manager"])
    _notices_as_lived(rng)
    return DemoSummary(users=len(users), leads=Lead.objects.count())


def _user(username: str, first: str, last: str, role: Role) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            "email": f"{username}@leadbridge.example",
            "is_staff": role == Role.ADMIN,
            "is_superuser": role == Role.ADMIN,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role.value))
    return user


def _form(marketer: User) -> Form:
    form, created = Form.objects.get_or_create(
        slug="talk-to-sales",
        defaults={
            "name": "Talk to sales",
            "campaign": "Marketplace onboarding Q4",
            "intro": "Tell us about your business and a specialist will contact you.",
            "created_by": marketer,
        },
    )
    if created:
        fields = [
            ("email", "Work e-mail", FormField.Kind.EMAIL, True, []),
            ("first_name", "First name", FormField.Kind.TEXT, True, []),
            ("last_name", "Last name", FormField.Kind.TEXT, False, []),
            ("company", "Company", FormField.Kind.TEXT, True, []),
            ("company_size", "Number of employees", FormField.Kind.NUMBER, True, []),
            ("country", "Country", FormField.Kind.COUNTRY, True, []),
            ("job_title", "Job title", FormField.Kind.TEXT, False, []),
        ]
        FormField.objects.bulk_create(
            FormField(
                form=form,
                key=key,
                label=label,
                kind=kind,
                required=required,
                choices=choices,
                position=i,
            )
            for i, (key, label, kind, required, choices) in enumerate(fields)
        )
        form_publish(form=form, by=marketer)
        form.refresh_from_db()
    return form


def _agreement(marketing_manager: User, sales_manager: User) -> Agreement:
    agreement, created = Agreement.objects.get_or_create(
        version=1,
        defaults={
            "summary": (
                "A company in our territory with a work address and at least 10 people, "
                "scoring 10 points: 50+ people, 500+ people or a named role."
            ),
            "threshold": 10,
            "accept_within_minutes": 240,
            "contact_within_hours": 24,
            "created_by": sales_manager,
        },
    )
    if created:
        criteria = [
            ("Work e-mail", "mandatory", "email", "domain_not_in", FREE_MAIL, 0),
            ("Sales territory", "mandatory", "country", "country_in", TERRITORY, 0),
            ("Company size", "mandatory", "company_size", "at_least", 10, 0),
            ("Mid-size company", "scoring", "company_size", "at_least", 50, 20),
            ("Large company", "scoring", "company_size", "at_least", 500, 20),
            ("Job title given", "scoring", "job_title", "present", None, 10),
        ]
        Criterion.objects.bulk_create(
            Criterion(
                agreement=agreement,
                label=label,
                kind=kind,
                attribute=attribute,
                operator=operator,
                value=value,
                points=points,
                position=i,
            )
            for i, (label, kind, attribute, operator, value, points) in enumerate(criteria)
        )
        agreement_propose(agreement=agreement, by=sales_manager)
        agreement_sign(agreement=agreement, by=sales_manager, side=Agreement.Side.SALES)
        agreement = agreement_sign(
            agreement=agreement, by=marketing_manager, side=Agreement.Side.MARKETING
        )
    return agreement


def _queues(users: dict[str, User]) -> None:
    plan = [
        ("Brazil", 10, [_one_of("country", ["BR"])], ["rep.ana", "rep.bruno"]),
        ("International", 20, [], ["rep.carla", "rep.dan"]),
    ]
    for name, priority, conditions, reps in plan:
        queue, created = Queue.objects.get_or_create(
            name=name, defaults={"priority": priority, "conditions": conditions}
        )
        if created:
            for position, username in enumerate(reps):
                QueueMember.objects.create(queue=queue, rep=users[username], position=position)


DEMO_WEBHOOK_URL = "https://crm.example.com/leadbridge/webhooks"


def _webhook_endpoint(manager: User) -> None:
    """An endpoint for the webhooks page to show, switched off: its address is an example
    (docs/webhooks.md), so nothing leaves the demo until a visitor points it at a receiver
    and switches it on. Written straight: `endpoint_create` resolves the name, and the demo
    runs offline."""
    Endpoint.objects.get_or_create(
        name="CRM (example)",
        defaults={
            "url": DEMO_WEBHOOK_URL,
            "kinds": ["lead.qualified", "lead.accepted", "lead.rejected", "lead.won", "lead.lost"],
            "is_active": False,
            "disabled_reason": "Demo: an example address. Point it at your receiver, then "
            "switch it on.",
            "created_by": manager,
        },
    )


def _one_of(attribute: str, values: list[str]) -> dict:
    return {"attribute": attribute, "operator": "country_in", "value": values}


def _demo_lead(rng: random.Random, form: Form, n: int, *, manager: User) -> None:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    company = f"{rng.choice(COMPANIES)} {rng.choice(['Ltda', 'SA', 'Inc', 'Group'])}"
    domain = (
        rng.choice(FREE_MAIL) if rng.random() < 0.15 else f"{company.split()[0].lower()}.example"
    )
    cleaned = {
        "email": f"{first}.{last}.{n}@{domain}".lower(),
        "first_name": first,
        "last_name": last,
        "company": company,
        "company_size": rng.choice([4, 15, 30, 60, 120, 250, 800, 2000]),
        "country": rng.choice(COUNTRIES),
        "job_title": rng.choice(JOB_TITLES),
        "consent": True,
    }
    origin = rng.choice(ORIGINS)
    submission = lead_capture(
        form=form,
        payload={k: str(v) for k, v in cleaned.items()},
        cleaned=cleaned,
        provenance=Provenance(utm={"utm_source": origin, "utm_campaign": form.campaign}),
    )
    # Already done on commit, unless the caller holds a transaction (as tests do).
    submission_qualify(submission_id=submission.pk)
    lead_route(lead_id=submission.lead_id)
    lead = Lead.objects.get(pk=submission.lead_id)
    if lead.stage == Stage.ROUTED:
        _work(rng, lead, manager=manager)
    _backdate(rng, lead)


def _work(rng: random.Random, lead: Lead, *, manager: User) -> None:
    """What a rep (and now and then their manager) does with a routed lead, via the services."""
    roll = rng.random()
    if roll < 0.15:
        return  # still waiting in the rep's inbox
    if roll < 0.35:
        _rejected(rng, lead, manager)
        return
    _accepted(rng, lead_accept(lead=lead, by=lead.owner), manager)


def _rejected(rng: random.Random, lead: Lead, manager: User) -> None:
    reason = rng.choice(list(RejectionReason))
    lead = lead_reject(
        lead=lead,
        by=lead.owner,
        reason=reason,
        note="Checked with the customer." if reason == RejectionReason.OTHER else "",
    )
    fate = rng.random()
    if fate < 0.3:
        lead_recycle(
            lead=lead,
            by=manager,
            until=_some_day_ahead(rng),
            note="Marketing keeps them warm until then.",
        )
    elif fate < 0.55 and (other := _colleague(rng, lead)) is not None:
        lead_reassign(
            lead=lead, to_rep=other, by=manager, reason=f"{other.first_name} knows this market."
        )
        lead.refresh_from_db()
        if rng.random() < 0.7:
            _accepted(rng, lead_accept(lead=lead, by=other), manager)


def _accepted(rng: random.Random, lead: Lead, manager: User) -> None:
    rep = lead.owner
    roll = rng.random()
    if roll < 0.12:
        lead_recycle(
            lead=lead,
            by=rep,
            until=_some_day_ahead(rng),
            note="Not ready to buy this quarter; back to nurture.",
        )
        return
    if roll < 0.3:
        return  # accepted, not reached yet
    _contact(rng, lead, rep)
    if rng.random() < 0.15:
        lead_note_add(lead=lead, by=rep, text=rng.choice(REP_NOTES))
    if rng.random() < 0.06 and (other := _colleague(rng, lead)) is not None:
        lead_reassign(lead=lead, to_rep=other, by=manager, reason=f"{rep.first_name} is on leave.")
        lead.refresh_from_db()
        rep = other
    if rng.random() < 0.4:
        return  # contacted
    lead_convert(lead=lead, by=rep, note="Needs confirmed; proposal sent.")
    if rng.random() < 0.5:
        lead_contact(
            lead=lead, by=rep, channel=ContactChannel.MEETING, note="Proposal walkthrough."
        )
    if rng.random() < 0.1:
        lead_note_add(lead=lead, by=manager, text=rng.choice(MANAGER_NOTES))
    if rng.random() < 0.3:
        return  # an open opportunity
    if rng.random() < 0.45:
        lead_win(lead=lead, by=rep, note="Signed the contract.")
        return
    reason = rng.choice(list(LostReason))
    lead_lose(
        lead=lead,
        by=rep,
        reason=reason,
        note="They stopped selling online." if reason == LostReason.OTHER else "",
    )


def _contact(rng: random.Random, lead: Lead, rep: User) -> None:
    """A first contact, and sometimes a follow-up or two."""
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        lead_contact(
            lead=lead,
            by=rep,
            channel=rng.choice(list(ContactChannel)),
            note=rng.choice(CONTACT_NOTES),
        )


def _colleague(rng: random.Random, lead: Lead) -> User | None:
    """Another rep of the lead's queue, for a manager to give it to."""
    others = QueueMember.objects.filter(queue=lead.queue_id).exclude(rep=lead.owner_id)
    members = list(others.select_related("rep"))
    return rng.choice(members).rep if members else None


def _some_day_ahead(rng: random.Random) -> date:
    return timezone.localdate() + timedelta(days=rng.randint(14, 120))


# How long after the previous event each stage is typically reached, in minutes.
STEP_MINUTES = {
    Stage.QUALIFIED: (0.05, 0.5),
    Stage.DISQUALIFIED: (0.05, 0.5),
    Stage.ROUTED: (0.02, 0.3),
    Stage.ACCEPTED: (5, 8 * 60),
    Stage.REJECTED: (5, 8 * 60),
    Stage.CONTACTED: (10, 2 * 24 * 60),
    Stage.RECYCLED: (24 * 60, 10 * 24 * 60),
    Stage.OPPORTUNITY: (24 * 60, 10 * 24 * 60),
    Stage.WON: (3 * 24 * 60, 20 * 24 * 60),
    Stage.LOST: (3 * 24 * 60, 20 * 24 * 60),
}
# And after each event that leaves the stage alone.
KIND_MINUTES = {
    LeadEvent.Kind.CONTACT_LOGGED: (4 * 60, 5 * 24 * 60),
    LeadEvent.Kind.NOTE: (5, 24 * 60),
    LeadEvent.Kind.REASSIGNED: (30, 24 * 60),
}
# A manager looks at a lead sales sent back within a day or two.
REROUTE_MINUTES = (60, 2 * 24 * 60)
FIRST_ACTIONS = {Stage.ACCEPTED, Stage.REJECTED, Stage.CONTACTED}


def _backdate(rng: random.Random, lead: Lead) -> None:
    now = timezone.now()
    events = list(lead.events.order_by("at", "pk"))
    made_at = [event.at for event in events]  # when the services wrote them, just now
    gaps = [
        timedelta(minutes=rng.uniform(*_gap(previous, event)))
        for previous, event in zip([None, *events[:-1]], events, strict=True)
    ]
    # The whole story ends before now: a lead worked for weeks starts weeks back.
    span = sum(gaps, timedelta())
    room = max(timedelta(days=90) - span, timedelta(days=1))
    moment = now - span - timedelta(seconds=rng.uniform(43200, room.total_seconds()))
    for event, gap in zip(events, gaps, strict=True):
        moment += gap
        event.at = moment
    LeadEvent.objects.bulk_update(events, ["at"])
    created = events[0].at
    first_action = next(
        (
            e.at
            for e in events
            if e.actor_id
            and (e.to_stage in FIRST_ACTIONS or e.kind == LeadEvent.Kind.CONTACT_LOGGED)
        ),
        None,
    )
    last_move = [e for e in events if e.to_stage][-1]
    Lead.objects.filter(pk=lead.pk).update(
        created_at=created, stage_changed_at=last_move.at, first_action_at=first_action
    )
    Qualification.objects.filter(lead=lead).update(evaluated_at=events[min(1, len(events) - 1)].at)
    _backdate_assignments(lead, events)
    _backdate_notifications(lead, events, made_at)
    # Submissions are append-only for the portal; demo data is made, not received.
    Submission.objects.filter(lead=lead).update(received_at=created)


def _backdate_notifications(lead: Lead, events: list[LeadEvent], made_at: list) -> None:
    """Each notice at the time of the event that caused it: the last one written before it."""
    notices = list(Notification.objects.filter(lead=lead))
    for notice in notices:
        notice.created_at = events[max(bisect_right(made_at, notice.created_at) - 1, 0)].at
    Notification.objects.bulk_update(notices, ["created_at"])


def _notices_as_lived(rng: random.Random) -> None:
    """The demo users' notices written again in time order, as a running portal writes them
    (the list shows the newest id first), and each user's five newest left unread: the bell
    shows what came lately, the rest was read within hours."""
    demo_users = [username for username, *_ in DEMO_USERS]  # nobody else's notices
    mine = Notification.objects.filter(recipient__username__in=demo_users)
    notices = list(mine.order_by("created_at", "pk"))
    if [notice.pk for notice in notices] == sorted(notice.pk for notice in notices):
        return  # already (a second seed_demo adds nothing)
    seen: dict[int, int] = {}
    for notice in reversed(notices):
        seen[notice.recipient_id] = seen.get(notice.recipient_id, 0) + 1
        if seen[notice.recipient_id] > 5 and notice.read_at is None:
            notice.read_at = notice.created_at + timedelta(minutes=rng.uniform(5, 240))
        notice.pk = None
    mine.delete()
    Notification.objects.bulk_create(notices)


def _gap(previous: LeadEvent | None, event: LeadEvent) -> tuple[float, float]:
    """Minutes since the previous event: none within one act, else typical for the step."""
    Kind = LeadEvent.Kind
    if previous is None or event.kind == Kind.ASSIGNED:
        return (0, 0)
    if event.kind == Kind.REASSIGNED and previous.from_stage == Stage.REJECTED:
        return (0, 0)  # a re-route: the move and the new owner are one act
    if event.kind != Kind.STAGE_CHANGED:
        return KIND_MINUTES[event.kind]
    if event.from_stage == Stage.REJECTED:
        return REROUTE_MINUTES
    return STEP_MINUTES[event.to_stage]


def _backdate_assignments(lead: Lead, events: list[LeadEvent]) -> None:
    """The queue's assignment when it was assigned, each manager's when they reassigned."""
    Kind = LeadEvent.Kind
    by_queue = [e.at for e in events if e.kind == Kind.ASSIGNED]
    by_manager = [e.at for e in events if e.kind == Kind.REASSIGNED]
    for assignment in lead.assignments.order_by("pk"):
        times = by_manager if assignment.assigned_by_id else by_queue
        if times:
            assignment.assigned_at = times.pop(0)
            assignment.save(update_fields=["assigned_at"])
