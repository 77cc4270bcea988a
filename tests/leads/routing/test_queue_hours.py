"""A queue's own working hours and time zone: its due times count them (the agreement's are
the default), its ladder fires within them, the manager sets them on the queue page, and a
change counts the queue's running clocks again."""

import datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest
import time_machine
from django.urls import reverse

from leads.models import Lead, LeadEvent, Stage
from leads.routing.escalation import leads_escalate, leads_remind
from leads.routing.models import Queue
from leads.routing.services import lead_route
from portal.accounts.roles import Role
from scoring.progress import RescoreRun
from tests.factories import AgreementFactory, LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NY_HOURS = {
    "business_days": [0, 1, 2, 3, 4],
    "business_opens": datetime.time(9),
    "business_closes": datetime.time(17),
    "time_zone": "America/New_York",
}


def at(*args, zone=BERLIN) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zone)


@pytest.fixture
def berlin():
    """The agreement: Berlin, 09:00-17:00 Monday to Friday."""
    return AgreementFactory(
        time_zone="Europe/Berlin",
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        accept_within_minutes=120,
    )


def routed(when, **queue_fields):
    reps = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(*reps, **queue_fields)
    lead = LeadFactory(stage=Stage.QUALIFIED)
    with time_machine.travel(when, tick=False):
        lead_route(lead_id=lead.pk)
    lead.refresh_from_db()
    return lead, queue


def test_a_queue_without_hours_of_its_own_counts_the_agreements(berlin):
    lead, _ = routed(at(2026, 11, 30, 16, 0))  # Monday 16:00 Berlin: 1 h today, 1 h tomorrow
    assert lead.due_at == at(2026, 12, 1, 10, 0)


def test_a_queue_with_its_own_hours_counts_them_in_its_time_zone(berlin):
    lead, _ = routed(at(2026, 11, 30, 16, 0), **NY_HOURS)  # 10:00 in New York
    assert lead.due_at == at(2026, 11, 30, 12, 0, zone=NEW_YORK)
    assert lead.due_soon_at == at(2026, 11, 30, 11, 0, zone=NEW_YORK)  # half, the default


def test_two_time_zones_in_the_week_only_europe_has_changed_its_clocks(berlin):
    # Europe left summer time on 25 Oct 2026, New York on 1 Nov: that week New York is five
    # hours behind Berlin, not six. Friday 30 Oct 16:00 Berlin is 11:00 in New York; the
    # queue's two hours end at 13:00 New York (EDT), 18:00 Berlin, after Berlin's closing.
    lead, _ = routed(at(2026, 10, 30, 16, 0), **NY_HOURS)
    assert lead.due_at == at(2026, 10, 30, 13, 0, zone=NEW_YORK)
    assert lead.due_at.astimezone(BERLIN) == at(2026, 10, 30, 18, 0)
    # Friday 16:30 New York: 30 min on Friday, the rest after the weekend and the change.
    lead, _ = routed(at(2026, 10, 30, 16, 30, zone=NEW_YORK), **NY_HOURS)
    assert lead.due_at == at(2026, 11, 2, 10, 30, zone=NEW_YORK)
    assert lead.due_at.astimezone(datetime.UTC).hour == 15  # EST now (was EDT, 14)


def test_the_ladder_fires_within_the_queues_hours_not_the_agreements(berlin):
    lead, _ = routed(at(2026, 11, 30, 16, 0), **NY_HOURS)  # due 12:00 New York
    Lead.objects.filter(pk=lead.pk).update(due_at=at(2026, 11, 30, 8, 0, zone=NEW_YORK))

    with time_machine.travel(at(2026, 11, 30, 8, 30, zone=NEW_YORK), tick=False):  # 14:30 Berlin
        leads_escalate(limit=10)
        leads_remind(limit=10)
    breached = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.SLA_BREACHED)
    assert not breached.exists()  # Berlin works, but the queue's day has not begun

    with time_machine.travel(at(2026, 11, 30, 12, 0, zone=NEW_YORK), tick=False):  # 18:00 Berlin
        leads_escalate(limit=10)
    assert breached.exists()  # Berlin has closed; the queue works


def test_a_manager_sets_the_queues_hours_and_its_running_clocks_are_counted_again(
    client, berlin, django_capture_on_commit_callbacks
):
    lead, queue = routed(at(2026, 11, 30, 16, 0))
    assert lead.due_at == at(2026, 12, 1, 10, 0)
    manager = UserFactory(role=Role.SALES_MANAGER)
    client.force_login(manager)
    data = {
        "name": queue.name,
        "priority": queue.priority,
        "is_active": "on",
        "members": list(queue.members.values_list("rep_id", flat=True)),
        "business_days": ["0", "1", "2", "3", "4"],
        "business_opens": "09:00",
        "business_closes": "17:00",
        "time_zone": "America/New_York",
    }
    edit = reverse("routing:queue_edit", args=[queue.pk])
    with (
        time_machine.travel(at(2026, 11, 30, 16, 5), tick=False),
        django_capture_on_commit_callbacks(execute=True) as recounts,
    ):
        response = client.post(edit, data)
    # The recount of the queue's clocks and the release of its pool, queued once it committed.
    assert len(recounts) == 2
    assert response.status_code == 302
    # Watched as a re-scoring is: its progress row, and the way to it from the queue list.
    run = RescoreRun.objects.get(kind=RescoreRun.Kind.CLOCKS, queue_id=queue.pk)
    assert (run.total, run.done) == (1, 1) and run.finished_at is not None
    assert queue.name in run.why
    listed = client.get(response.url).content.decode()
    assert "The due times of its open leads are being counted again" in listed
    assert f'<a href="{reverse("scoring:agreement")}#clocks">see the progress</a>' in listed
    queue.refresh_from_db()
    assert queue.own_hours() == (
        frozenset(range(5)),
        datetime.time(9),
        datetime.time(17),
        "America/New_York",
    )
    lead.refresh_from_db()  # counted again from where its clock started, in New York's hours
    assert lead.due_at == at(2026, 11, 30, 12, 0, zone=NEW_YORK)
    # And back to the agreement's: clearing them.
    data.update(business_days=[], business_opens="", business_closes="", time_zone="")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(edit, data).status_code == 302
    lead.refresh_from_db()
    assert lead.due_at == at(2026, 12, 1, 10, 0)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "not a time zone"),
        ({"time_zone": "", "business_opens": "08:00"}, "time_zone", "Give the time zone"),
        ({"business_days": []}, "business_days", "at least one working day"),
        ({"business_closes": "08:00"}, "business_closes", "open before it closes"),
        ({"business_opens": ""}, "business_opens", "opens"),
    ],
)
def test_bad_hours_are_refused_naming_the_field(client, fields, field, words):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    data = {
        "name": "Night shift",
        "priority": 5,
        "business_days": ["0"],
        "business_opens": "09:00",
        "business_closes": "17:00",
        "time_zone": "Europe/Lisbon",
    }
    data.update(fields)
    response = client.post(reverse("routing:queue_new"), data)
    assert response.status_code == 400
    assert words in " ".join(response.context["bound"].errors[field])
    assert not Queue.objects.exists()


@pytest.mark.parametrize(
    ("role", "page"),
    [(Role.SALES_MANAGER, "routing:queue_new"), (Role.SALES_REP, "routing:my_availability")],
)
def test_a_time_zone_box_suggests_every_zone_by_name(client, role, page):
    client.force_login(UserFactory(role=role))
    html = client.get(reverse(page)).content.decode()
    assert 'list="id_time_zone-zones"' in html
    suggested = html.split('<datalist id="id_time_zone-zones">')[1].split("</datalist>")[0]
    assert suggested.count("<option") == len(available_timezones())
    assert '<option value="America/Sao_Paulo">' in suggested


def test_a_rep_gets_only_a_zone_the_queues_and_the_agreement_take(client):
    """ZoneInfo also opens "posix/UTC", which business time (scoring.service_levels) refuses."""
    client.force_login(UserFactory(role=Role.SALES_REP))
    answer = client.post(reverse("routing:my_availability"), {"time_zone": "posix/UTC"})
    assert answer.status_code == 400
    assert "not a time zone" in answer.context["bound"].errors["time_zone"][0]


def test_the_lead_page_gives_the_due_time_in_the_queues_hours(client, berlin):
    lead, _ = routed(at(2026, 11, 30, 16, 0), **NY_HOURS)
    client.force_login(lead.owner)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert ">Mon Nov 30, 12:00 EST</time>" in page
    assert "120 minutes of working time: Mon to Fri, 09:00 to 17:00 (America/New_York)" in page


def test_a_reminder_gives_the_due_time_in_the_queues_time_zone(berlin):
    lead, _ = routed(at(2026, 11, 30, 16, 0), **NY_HOURS)  # due 12:00 New York
    with time_machine.travel(at(2026, 11, 30, 11, 0, zone=NEW_YORK), tick=False):
        assert leads_remind(limit=10) == 1
    reminder = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.SLA_REMINDER)
    assert "by Mon Nov 30, 12:00 EST" in reminder.reason
