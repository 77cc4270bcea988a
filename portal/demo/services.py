"""Demo data made through the real services, so every demo lead has a true history.

Leads are captured, scored and routed by the same code the portal runs; reps then work
them. Afterwards each lead's timestamps are moved back to a day in the last 90, keeping
the order of its events, so the dashboard has a believable quarter to show.
"""

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from leads import locks
from leads.capture.models import Form, FormField
from leads.capture.services import Provenance, lead_capture
from leads.inbox.services import lead_accept, lead_reject
from leads.lifecycle import lead_move
from leads.models import Lead, LeadEvent, RejectionReason, Stage, Submission
from leads.routing.models import Queue, QueueMember
from leads.routing.services import lead_route
from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.celery import app as celery_app
from scoring.models import Agreement, Criterion, Qualification
from scoring.services import agreement_sign, submission_qualify

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

COUNTRIES = ["Brazil"] * 6 + ["United States"] * 2 + ["Portugal", "Mexico", "Germany", "India"]
TERRITORY = ["Brazil", "United States", "Portugal", "Mexico"]
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
    for n in range(leads):
        _demo_lead(rng, form, n)
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
            "is_published": True,
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
            ("country", "Country", FormField.Kind.CHOICE, True, sorted(set(COUNTRIES))),
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
        form.save(update_fields=["updated_at"])  # bulk_create skips the versioning in save()
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
            "contact_within_minutes": 1440,
            "created_by": sales_manager,
        },
    )
    if created:
        criteria = [
            ("Work e-mail", "mandatory", "email", "domain_not_in", FREE_MAIL, 0),
            ("Sales territory", "mandatory", "country", "one_of", TERRITORY, 0),
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
        agreement_sign(agreement=agreement, by=sales_manager, side=Agreement.Side.SALES)
        agreement = agreement_sign(
            agreement=agreement, by=marketing_manager, side=Agreement.Side.MARKETING
        )
    return agreement


def _queues(users: dict[str, User]) -> None:
    plan = [
        ("Brazil", 10, "country", ["Brazil"], ["rep.ana", "rep.bruno"]),
        ("International", 20, "", [], ["rep.carla", "rep.dan"]),
    ]
    for name, priority, attribute, values, reps in plan:
        queue, created = Queue.objects.get_or_create(
            name=name,
            defaults={"priority": priority, "match_attribute": attribute, "match_values": values},
        )
        if created:
            for position, username in enumerate(reps):
                QueueMember.objects.create(queue=queue, rep=users[username], position=position)


def _demo_lead(rng: random.Random, form: Form, n: int) -> None:
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
        _work(rng, lead)
    _backdate(rng, lead)


def _work(rng: random.Random, lead: Lead) -> None:
    rep = lead.owner
    roll = rng.random()
    if roll < 0.15:
        return
    if roll < 0.35:
        reason = rng.choice(list(RejectionReason))
        lead_reject(
            lead=lead,
            by=rep,
            reason=reason,
            note="Checked with the customer." if reason == "other" else "",
        )
        return
    lead = lead_accept(lead=lead, by=rep)
    path = [(Stage.CONTACTED, "Called and spoke to the buyer.")]
    if rng.random() < 0.6:
        path.append((Stage.OPPORTUNITY, "Needs confirmed; proposal sent."))
        won = rng.random() < 0.45
        path.append(
            (
                Stage.WON if won else Stage.LOST,
                "Signed the contract." if won else "Chose a competitor.",
            )
        )
    elif rng.random() < 0.3:
        path = [(Stage.RECYCLED, "Not ready to buy this quarter; back to nurture.")]
    steps = rng.randint(0, len(path))
    for stage, why in path[:steps]:
        with transaction.atomic():
            lead = locks.lead_locked(lead.pk)
            lead_move(lead=lead, to=stage, by=rep, reason=why)


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


def _backdate(rng: random.Random, lead: Lead) -> None:
    now = timezone.now()
    moment = now - timedelta(days=rng.uniform(0.5, 90))
    events = list(lead.events.order_by("at", "pk"))
    for event in events:
        if event.from_stage:
            moment += timedelta(minutes=rng.uniform(*STEP_MINUTES[event.to_stage]))
        event.at = min(moment, now)
    LeadEvent.objects.bulk_update(events, ["at"])
    created = events[0].at
    first_action = next((e.at for e in events if e.actor_id is not None), None)
    Lead.objects.filter(pk=lead.pk).update(
        created_at=created, stage_changed_at=events[-1].at, first_action_at=first_action
    )
    Qualification.objects.filter(lead=lead).update(evaluated_at=events[min(1, len(events) - 1)].at)
    lead.assignments.update(assigned_at=events[min(2, len(events) - 1)].at)
    # Submissions are append-only for the portal; demo data is made, not received.
    Submission.objects.filter(lead=lead).update(received_at=created)
