"""Who hears of each lead event, and as what (leads/audience.py): one rule per event kind,
fed by the events the services write, in their transaction."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.audience import BACK_FROM_NURTURE, SLA_BREACHED, SLA_REMINDER
from leads.events import events_record
from leads.models import Lead, LeadEvent, Stage
from leads.routing.services import lead_reassign, lead_route, leads_route
from portal.accounts.roles import Role
from portal.notifications.models import Kind, Notification
from tests.factories import FormFactory, LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db


def told(user) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", "title")
    )


def routed_lead(owner, **fields):
    return LeadFactory(stage=Stage.ROUTED, owner=owner, **fields)


def event(lead, kind, *, by=None, **data):
    return LeadEvent(lead=lead, kind=kind, actor=by, reason=f"Because {kind}.", data=data)


def test_a_rep_is_told_of_a_lead_routed_to_them(rep):
    queue_with_reps(rep)
    lead = LeadFactory(stage=Stage.QUALIFIED, first_name="Ana", last_name="Souza")
    lead_route(lead_id=lead.pk)
    assert told(rep) == [(Kind.LEAD_ASSIGNED, "Ana Souza (Acme) was assigned to you")]
    notification = Notification.objects.get(recipient=rep)
    assert notification.url == lead.get_absolute_url()
    assert notification.lead_id == lead.pk
    assert "Round robin" in notification.detail


def test_a_reassignment_tells_the_new_rep_and_the_one_it_was_taken_from(
    rep, other_rep, sales_manager
):
    lead = routed_lead(rep, first_name="Ana")
    lead_reassign(lead=lead, to_rep=other_rep, by=sales_manager, reason="Rep on holiday")
    assert told(other_rep) == [(Kind.LEAD_REASSIGNED, "Ana (Acme) was reassigned to you")]
    assert told(rep) == [(Kind.LEAD_BREACHED, "Ana (Acme) was taken from you")]
    assert told(sales_manager) == []  # who did it is not told of it


def test_a_reminder_tells_the_owner_the_lead_is_due_soon(rep):
    lead = routed_lead(rep)
    with transaction.atomic():
        events_record([event(lead, SLA_REMINDER)])
    assert told(rep) == [(Kind.LEAD_DUE_SOON, f"{lead.email} (Acme) is due soon")]


def test_a_breach_tells_the_first_rep_and_the_managers(rep, other_rep, sales_manager):
    lead = routed_lead(other_rep)  # already given to the next rep
    with transaction.atomic():
        events_record([event(lead, SLA_BREACHED, rep=rep.pk)])
    title = f"{lead.email} (Acme) breached its service level"
    assert told(rep) == [(Kind.LEAD_BREACHED, title)]
    assert told(sales_manager) == [(Kind.LEAD_BREACHED, title)]
    assert told(other_rep) == []


def test_a_breach_and_the_reassignment_it_causes_tell_the_first_rep_once(
    rep, other_rep, sales_manager
):
    lead = routed_lead(other_rep)
    with transaction.atomic():
        events_record(
            [
                event(lead, SLA_BREACHED, rep=rep.pk),
                event(lead, LeadEvent.Kind.REASSIGNED, from_rep=rep.pk, to_rep=other_rep.pk),
            ]
        )
    assert told(rep) == [(Kind.LEAD_BREACHED, f"{lead.email} (Acme) breached its service level")]
    assert told(other_rep) == [(Kind.LEAD_REASSIGNED, f"{lead.email} (Acme) was reassigned to you")]


def test_a_breach_that_names_its_manager_tells_only_that_one(rep, sales_manager):
    queue_manager = UserFactory(role=Role.SALES_MANAGER)
    lead = routed_lead(rep)
    with transaction.atomic():
        events_record([event(lead, SLA_BREACHED, manager=queue_manager.pk)])
    assert [kind for kind, _ in told(queue_manager)] == [Kind.LEAD_BREACHED]
    assert [kind for kind, _ in told(rep)] == [Kind.LEAD_BREACHED]  # the owner, unnamed
    assert told(sales_manager) == []


def test_a_lead_back_from_nurture_tells_its_rep(rep):
    lead = routed_lead(rep)
    with transaction.atomic():
        events_record([event(lead, BACK_FROM_NURTURE)])
    title = f"{lead.email} (Acme) came back from nurture"
    assert told(rep) == [(Kind.LEAD_BACK_FROM_NURTURE, title)]


def test_a_second_submission_tells_the_owner_but_a_first_or_an_imported_one_does_not(client, rep):
    form = FormFactory()

    def send():
        url = reverse("capture:form", kwargs={"slug": form.slug})
        assert client.post(url, {"email": "ana@acme.example", "company": "Acme"}).status_code == 302

    send()
    assert Notification.objects.count() == 0  # a new lead has no rep yet
    Lead.objects.filter(email="ana@acme.example").update(stage=Stage.ROUTED, owner=rep)
    send()
    assert told(rep) == [
        (Kind.LEAD_SUBMITTED_AGAIN, "ana@acme.example (Acme) submitted a form again")
    ]
    lead = Lead.objects.get()
    with transaction.atomic():
        imported = event(lead, LeadEvent.Kind.SUBMISSION_RECEIVED, created=False, **{"import": 1})
        events_record([imported])
    assert len(told(rep)) == 1


def test_notes_and_stage_changes_tell_no_one(rep):
    lead = routed_lead(rep)
    with transaction.atomic():
        events_record([event(lead, LeadEvent.Kind.NOTE), event(lead, LeadEvent.Kind.STAGE_CHANGED)])
    assert Notification.objects.count() == 0


def test_an_inactive_rep_is_told_nothing(rep):
    rep.is_active = False
    rep.save(update_fields=["is_active"])
    with transaction.atomic():
        events_record([event(routed_lead(rep), SLA_REMINDER)])
    assert Notification.objects.count() == 0


def _route(count: int) -> int:
    """Queries taken to route `count` qualified leads in one batch, as the handoff does."""
    leads = [LeadFactory(stage=Stage.QUALIFIED) for _ in range(count)]
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        leads_route(leads=leads)
    return captured


def test_a_batch_tells_every_rep_with_one_insert_and_no_query_per_lead():
    reps = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue_with_reps(*reps)
    few, many = _route(3), _route(30)
    assert len(many) == len(few)
    inserts = [
        q["sql"]
        for q in many
        if q["sql"].startswith(("INSERT", "COPY")) and "notifications_notification" in q["sql"]
    ]
    assert len(inserts) == 1
    for rep in reps:
        assert Notification.objects.filter(recipient=rep, kind=Kind.LEAD_ASSIGNED).count() == 11
