"""A rep's availability, set once for every queue, and the pool where leads wait for a rep."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Stage
from leads.routing.models import Absence, Availability
from leads.routing.services import availability_of, availability_save, leads_route
from portal.accounts.roles import Role
from portal.errors import PermissionDenied
from tests.factories import LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db


def qualified(n=1):
    return [LeadFactory(stage=Stage.QUALIFIED) for _ in range(n)]


def test_a_lead_no_rep_can_take_waits_in_the_queues_pool_and_is_never_dropped():
    rep = UserFactory(role=Role.SALES_REP)
    Availability.objects.create(rep=rep, paused=True)
    queue = queue_with_reps(rep, name="Team")
    (lead,) = qualified()
    assert leads_route(leads=[lead]) == []
    lead.refresh_from_db()
    assert (lead.stage, lead.queue, lead.owner) == (Stage.QUALIFIED, queue, None)
    assert lead.route_due_at is not None  # the sweep tries it again


def test_unpausing_a_rep_assigns_the_waiting_leads_at_once(
    client, django_capture_on_commit_callbacks
):
    rep = UserFactory(role=Role.SALES_REP)
    Availability.objects.create(rep=rep, paused=True)
    queue_with_reps(rep)
    leads = qualified(2)
    leads_route(leads=leads)
    client.force_login(rep)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(reverse("routing:my_availability"), {"time_zone": "UTC", "paused": ""})
    assert answer.status_code == 302
    for lead in leads:  # the handoff ran after the commit (in-process in the tests)
        lead.refresh_from_db()
        assert (lead.stage, lead.owner) == (Stage.ROUTED, rep)


def test_removing_days_away_releases_the_pool(client, django_capture_on_commit_callbacks):
    rep = UserFactory(role=Role.SALES_REP)
    today = timezone.localdate()
    absence = Absence.objects.create(rep=rep, first_day=today, last_day=today)
    queue_with_reps(rep)
    (lead,) = qualified()
    leads_route(leads=[lead])
    client.force_login(rep)
    url = reverse("routing:absence_delete", args=[absence.pk])
    assert "Remove these days away?" in client.get(url).content.decode()  # asks first
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    lead.refresh_from_db()
    assert lead.owner == rep


def test_a_manager_sets_a_reps_holiday_and_the_rep_gets_no_leads_then(client):
    away, other = UserFactory.create_batch(2, role=Role.SALES_REP)
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    today = timezone.localdate()
    answer = client.post(
        reverse("routing:rep_availability", args=[away.pk]),
        {"absence": "1", "first_day": today, "last_day": today + datetime.timedelta(days=7)},
    )
    assert answer.status_code == 302
    queue_with_reps(away, other)
    assert {a.rep for a in leads_route(leads=qualified(3))} == {other}


def test_a_bad_availability_is_refused_naming_the_field(client):
    rep = UserFactory(role=Role.SALES_REP)
    client.force_login(rep)
    answer = client.post(
        reverse("routing:my_availability"),
        {"time_zone": "Mars/Olympus", "starts": "17:00", "ends": "09:00"},
    )
    assert answer.status_code == 400
    errors = answer.context["bound"].errors
    assert "not a time zone" in errors["time_zone"][0]
    assert "end after it starts" in errors["ends"][0]
    answer = client.post(
        reverse("routing:my_availability"),
        {"absence": "1", "first_day": "2026-12-10", "last_day": "2026-12-01"},
    )
    assert answer.status_code == 400
    assert "cannot come before" in answer.context["away"].errors["last_day"][0]


def test_a_rep_may_not_set_another_reps_availability():
    rep, other = UserFactory.create_batch(2, role=Role.SALES_REP)
    with pytest.raises(PermissionDenied):
        availability_save(availability=availability_of(other), by=rep)


def test_the_queue_page_shows_each_reps_load_and_the_pool_with_its_age(client):
    rep = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Lima")
    LeadFactory.create_batch(2, stage=Stage.ACCEPTED, owner=rep)
    queue = queue_with_reps(rep, name="Team", capacity_per_rep=2)
    leads_route(leads=qualified())
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    html = client.get(reverse("routing:queue_list")).content.decode()
    assert 'Ana Lima<span class="text-body-secondary">: 2 open' in html
    assert "1 lead</a>, the oldest for" in html
    pool = client.get(reverse("routing:queue_pool", args=[queue.pk])).content.decode()
    assert "1 lead waiting" in pool
    reps = client.get(reverse("routing:rep_list")).content.decode()
    assert "Ana Lima" in reps
