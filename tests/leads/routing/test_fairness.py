"""The fairness ledger: credit-back for invalid leads, kept across member edits, the fairness
page; and the explanation of every assignment on the lead page."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from leads.inbox.services import lead_reject
from leads.models import RejectionReason, Stage
from leads.routing.escalation import leads_escalate
from leads.routing.models import Assignment, Availability, Queue, QueueMember
from leads.routing.selectors import fairness
from leads.routing.services import lead_route, leads_route, queue_save
from portal.accounts.roles import Role
from tests.factories import AgreementFactory, LeadFactory, UserFactory, one_of, queue_with_reps

pytestmark = pytest.mark.django_db

LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


def qualified(n=1, **fields):
    return [LeadFactory(stage=Stage.QUALIFIED, **fields) for _ in range(n)]


def test_a_rep_who_rejects_a_lead_as_not_a_real_person_gets_the_next_lead():
    ana, bruno, carla = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue = queue_with_reps(ana, bruno, carla)
    first, second = qualified(2)
    assert lead_route(lead_id=first.pk).rep == ana
    lead_reject(lead=first, by=ana, reason=RejectionReason.NOT_A_PERSON)
    assert QueueMember.objects.get(rep=ana).credits == 1
    assert Assignment.objects.get(lead=first).credited
    assert lead_route(lead_id=second.pk).rep == ana  # not bruno: the turn owed ana one
    assert QueueMember.objects.get(rep=ana).credits == 0
    owners = [a.rep for a in leads_route(leads=qualified(3))]
    assert owners == [bruno, carla, ana]  # and the turn goes on where it was
    rows, total = fairness(queue=queue, since=LONG_AGO, now=second.created_at)
    received = {row.rep: (row.received, row.credited) for row in rows}
    assert received[ana] == (2, 1) and total == 4  # the credited lead counts for nobody


def test_a_rejection_for_another_reason_credits_nothing():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue_with_reps(ana, bruno)
    (lead,) = qualified()
    lead_route(lead_id=lead.pk)
    lead_reject(lead=lead, by=ana, reason=RejectionReason.NO_BUDGET)
    assert QueueMember.objects.get(rep=ana).credits == 0
    assert lead_route(lead_id=qualified()[0].pk).rep == bruno


def test_a_breach_reassignment_does_not_credit_the_rep_who_breached():
    AgreementFactory(accept_within_minutes=60)
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(ana, bruno, escalate_off_hours=True)
    (lead,) = qualified()
    start = datetime.datetime(2026, 12, 8, 10, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        lead_route(lead_id=lead.pk)
    with time_machine.travel(start + datetime.timedelta(hours=3), tick=False):
        leads_escalate(limit=10)
    lead.refresh_from_db()
    assert lead.owner == bruno
    assert QueueMember.objects.get(rep=ana).credits == 0
    rows, _ = fairness(queue=queue, since=LONG_AGO, now=start)
    assert {row.rep: row.received for row in rows} == {ana: 1, bruno: 1}  # ana's still counts


def test_the_ledger_keeps_counts_across_edits_of_the_member_list(client):
    ana, bruno, carla = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue = queue_with_reps(ana, bruno)
    leads_route(leads=qualified(4))
    queue_save(queue=queue, reps=[bruno, carla])  # ana leaves, carla joins
    rows, total = fairness(queue=queue, since=LONG_AGO, now=queue.assignments.first().assigned_at)
    by_rep = {row.rep: row for row in rows}
    assert (by_rep[ana].received, by_rep[ana].member) == (2, False)
    assert by_rep[bruno].received == 2 and by_rep[carla].received == 0
    assert total == 4
    assert by_rep[bruno].expected == pytest.approx(0.5)


def test_the_fairness_page_shows_expected_against_actual_share_and_exports_csv(client):
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP, first_name="Ana")
    queue = queue_with_reps(strategy="weighted")
    queue_save(queue=queue, reps=[ana, bruno], weights={ana.pk: 3, bruno.pk: 1})
    leads_route(leads=qualified(8))
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("routing:queue_fairness", args=[queue.pk]))
    html = page.content.decode()
    assert "75.0 %" in html and "25.0 %" in html
    assert "8 leads from this queue in the period" in html
    csv = client.get(reverse("routing:queue_fairness", args=[queue.pk]), {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[0].startswith("name,member,weight,expected,actual")


def test_the_lead_page_explains_why_this_rep(client):
    busy, ana, bruno = UserFactory.create_batch(3, role=Role.SALES_REP)
    busy.first_name, ana.first_name, bruno.first_name = "Busy", "Ana", "Bruno"
    for user in (busy, ana, bruno):
        user.save()
    Availability.objects.create(rep=busy, paused=True)
    Availability.objects.create(rep=ana, paused=True)
    queue_with_reps(busy, name="VIP", priority=1)
    queue_with_reps(
        busy, name="Portugal", priority=2, conditions=one_of("country", ["PT"], "country_in")
    )
    queue_with_reps(ana, bruno, name="Everyone", priority=3)
    (lead,) = qualified(attributes={"country": "BR"})
    assert lead_route(lead_id=lead.pk).rep == bruno
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    html = client.get(reverse("inbox:lead", args=[lead.pk])).content.decode()
    assert "Why this rep" in html
    assert "Passed over VIP: none of its reps could take it (Busy" in html
    assert "Passed over Portugal: the lead fails its conditions (country is one of PT)" in html
    assert "Queue Everyone took the lead; its reps take turns by round robin." in html
    assert "Skipped in turn: Ana" in html and "paused" in html


def test_the_fairness_page_shares_each_day_among_that_days_members():
    """Ana alone gets 3 leads; then Bruno joins and each gets 1: Ana's share 4 of 5 (80 %),
    Bruno's 1 of 5 (20 %), not half each as the members now would give."""
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    start = datetime.datetime(2026, 11, 2, 12, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        queue = queue_save(queue=Queue(name="Inbound"), reps=[ana])
        leads_route(leads=qualified(3))
    with time_machine.travel(start + datetime.timedelta(days=2), tick=False):
        queue_save(queue=queue, reps=[ana, bruno])
        leads_route(leads=qualified(2))
    rows, total = fairness(queue=queue, since=LONG_AGO, now=start)
    shares = {row.rep: (row.received, round(row.expected, 2)) for row in rows}
    assert total == 5 and shares == {ana: (4, 0.8), bruno: (1, 0.2)}
