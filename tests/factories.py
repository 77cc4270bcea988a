import datetime

import factory
from django.contrib.auth.models import Group

from leads.capture.models import Form, FormField
from leads.capture.services import form_publish
from leads.models import Lead, Stage, Submission
from leads.routing.models import Queue, QueueMember
from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.integrations.webhooks.models import Delivery, Endpoint
from scoring.models import Agreement, Criterion, CriterionResult, Qualification


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, role: Role | None, **kwargs):
        if create and role:
            self.groups.add(Group.objects.get(name=role.value))


class FormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Form
        skip_postgeneration_save = True

    name = "Talk to sales"
    slug = factory.Sequence(lambda n: f"talk-to-sales-{n}")
    campaign = "Q4 launch"

    @factory.post_generation
    def with_fields(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        specs = [
            ("email", "Work e-mail", FormField.Kind.EMAIL, True, []),
            ("first_name", "First name", FormField.Kind.TEXT, False, []),
            ("company", "Company", FormField.Kind.TEXT, False, []),
            ("company_size", "Employees", FormField.Kind.NUMBER, False, []),
            ("country", "Country", FormField.Kind.CHOICE, False, ["Brazil", "Germany"]),
        ]
        for position, (key, label, kind, required, choices) in enumerate(specs):
            FormField.objects.create(
                form=self,
                key=key,
                label=label,
                kind=kind,
                required=required,
                choices=choices,
                position=position,
            )

    @factory.post_generation
    def publish(self, create, extracted, **kwargs):
        """Published as version 1 of the fields above, unless publish=False."""
        if create and extracted is not False:
            form_publish(form=self, by=None)
            self.refresh_from_db()


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    email = factory.Sequence(lambda n: f"lead{n}@acme.example")
    company = "Acme"
    source_form = factory.SubFactory(FormFactory)
    stage = Stage.CAPTURED
    attributes = factory.LazyAttribute(lambda lead: {"email": lead.email})


class AgreementFactory(factory.django.DjangoModelFactory):
    """An active agreement: company size at least 50 is mandatory; threshold 0.

    Left unproposed (no `proposed_at`) so that tests can still add criteria to it; the
    services never make such a version, they activate only proposals.
    """

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    version = factory.Sequence(lambda n: n + 1)
    threshold = 0
    activated_at = factory.LazyFunction(lambda: datetime.datetime.now(datetime.UTC))

    @factory.post_generation
    def criteria(self, create, extracted, **kwargs):
        if create and extracted is not False:
            CriterionFactory(agreement=self)


class CriterionFactory(factory.django.DjangoModelFactory):
    """By default the mandatory "company size is at least 50"."""

    class Meta:
        model = Criterion

    label = "Company size"
    kind = Criterion.Kind.MANDATORY
    attribute = "company_size"
    operator = Criterion.Operator.AT_LEAST
    value = 50


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue

    name = factory.Sequence(lambda n: f"Queue {n}")


def one_of(attribute: str, values: list, operator: str = "one_of") -> list[dict]:
    """A queue rule of one condition: `attribute` is one of `values`."""
    return [{"attribute": attribute, "operator": operator, "value": values, "blank_passes": False}]


def queue_with_reps(*reps: User, **queue_fields) -> Queue:
    queue = QueueFactory(**queue_fields)
    for position, rep in enumerate(reps):
        QueueMember.objects.create(queue=queue, rep=rep, position=position)
    return queue


def judged(lead: Lead, agreement: Agreement, passed: dict, *, failed=(), qualified=True):
    """A judgement in force of `lead` by `agreement`, as the handoff stores one: `passed` maps
    each criterion the lead passed to its points; `failed` lists those it failed."""
    submission = Submission.objects.create(form=lead.source_form, lead=lead, payload={})
    qualification = Qualification.objects.create(
        lead=lead,
        submission=submission,
        agreement=agreement,
        qualified=qualified,
        score=sum(passed.values()),
        summary="Qualified." if qualified else "Not qualified.",
    )
    CriterionResult.objects.bulk_create(
        [
            *(
                CriterionResult(
                    qualification=qualification,
                    criterion=criterion,
                    passed=True,
                    points=points,
                    reason=f"{criterion.label}: passed.",
                )
                for criterion, points in passed.items()
            ),
            *(
                CriterionResult(
                    qualification=qualification,
                    criterion=criterion,
                    passed=False,
                    points=0,
                    reason=f"{criterion.label}: failed.",
                )
                for criterion in failed
            ),
        ]
    )
    return qualification


class EndpointFactory(factory.django.DjangoModelFactory):
    """A webhook endpoint (written straight, past the SSRF guard that `endpoint_create` runs)."""

    class Meta:
        model = Endpoint

    name = factory.Sequence(lambda n: f"Receiver {n}")
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/leads")
    kinds = factory.LazyFunction(lambda: ["lead.captured", "lead.qualified", "lead.won"])


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    endpoint = factory.SubFactory(EndpointFactory)
    kind = "lead.won"
    msg_id = factory.Sequence(lambda n: f"msg_test{n}")
    payload = factory.LazyFunction(lambda: {"type": "lead.won", "data": {}})
