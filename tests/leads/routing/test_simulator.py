"""The routing simulator: where a lead would go and why, changing nothing; and a what-if."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from leads.models import Lead, Stage
from leads.routing.models import Absence, Assignment, Availability, Queue, QueueMember
from leads.routing.services import leads_route
from leads.routing.simulator import what_if
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory, one_of, queue_with_reps

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = UserFactory(role=Role.SALES_MANAGER)
    client.force_login(user)
    return user


def test_typed_attributes_show_the_queue_the_rep_and_why_and_change_nothing(client, manager):
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Lima")
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Reis")
    Availability.objects.create(rep=ana, paused=True)
    queue = queue_with_reps(
        ana, bruno, name="Brazil", conditions=one_of("country", ["BR"], "country_in")
    )
    queue_with_reps(name="Rest", priority=999)
    answer = client.get(reverse("routing:simulator"), {"attributes": "country: BR\nsize: 10"})
    html = answer.content.decode()
    assert answer.status_code == 200
    assert "To Bruno Reis, in Brazil" in html
    assert "Skipped in turn: Ana Lima paused" in html
    queue.refresh_from_db()
    assert queue.last_position == -1  # the turn did not move
    assert not Assignment.objects.exists()


def test_a_lead_is_tried_as_it_is(client, manager):
    rep = UserFactory(role=Role.SALES_REP, first_name="Carla", last_name="Dias")
    queue_with_reps(rep, name="Spring", conditions=one_of("campaign", ["Spring"]))
    lead = LeadFactory(stage=Stage.QUALIFIED, campaign="Spring")
    html = client.get(reverse("routing:simulator"), {"lead": lead.pk}).content.decode()
    assert "To Carla Dias, in Spring" in html
    lead.refresh_from_db()
    assert lead.stage == Stage.QUALIFIED


def test_bad_simulator_input_says_which_field(client, manager):
    answer = client.get(reverse("routing:simulator"), {"lead": "999999", "attributes": ""})
    assert answer.status_code == 400
    assert "No lead number 999999" in answer.content.decode()
    answer = client.get(reverse("routing:simulator"), {"attributes": "just words"})
    assert answer.status_code == 400
    assert "is not attribute: value" in answer.content.decode()


def test_what_if_replays_the_periods_leads_through_a_proposed_rule(client, manager):
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Lima")
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Reis")
    brazil = queue_with_reps(
        ana, name="Brazil", priority=1, conditions=one_of("country", ["BR"], "country_in")
    )
    queue_with_reps(bruno, name="Rest", priority=2)
    leads = [
        LeadFactory(stage=Stage.QUALIFIED, attributes={"country": country})
        for country in ["BR", "BR", "PT", "US"]
    ]
    leads_route(leads=leads)
    loaded = client.get(reverse("routing:simulator"), {"w-queue": brazil.pk})
    assert loaded.context["what_form"]["condition_0_value"].value() == "Brazil"
    answer = client.get(
        reverse("routing:simulator"),
        {
            "w-queue": brazil.pk,
            "w-days": 30,
            "w-condition_0_attribute": "country",
            "w-condition_0_operator": "country_in",
            "w-condition_0_value": "Brazil, Portugal",
        },
    )
    result = answer.context["what_if"]
    assert (result.leads, result.moved) == (4, 1)
    assert result.queue_moves == {("Rest", "Brazil"): 1}
    assert result.reps == {"Ana Lima": [2, 3], "Bruno Reis": [2, 1]}
    assert "1 of 4 leads would go elsewhere" in answer.content.decode()
    assert Queue.objects.get(pk=brazil.pk).conditions[0]["value"] == ["BR"]  # unchanged
    assert QueueMember.objects.get(rep=ana).stride_pass == 2  # as the real routing left it


def test_what_if_replays_each_lead_at_the_time_it_was_routed():
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Lima")
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Reis")
    carla = UserFactory(role=Role.SALES_REP, first_name="Carla", last_name="Dias")
    team = queue_with_reps(ana, bruno, carla, name="Team")
    now = datetime.datetime(2026, 12, 8, 11, 0, tzinfo=datetime.UTC)
    then = now - datetime.timedelta(days=7)
    Absence.objects.create(rep=ana, first_day=then.date(), last_day=then.date())
    with time_machine.travel(then, tick=False):
        leads_route(leads=[LeadFactory(stage=Stage.QUALIFIED) for _ in range(4)])
    Availability.objects.create(rep=carla, paused=True)  # today: no history of pauses

    with time_machine.travel(now, tick=False):
        result = what_if(queue=team, proposed={}, since=now - datetime.timedelta(days=30))

    # Ana was away then, whatever she is now; Carla's pause of today is left out.
    assert result.reps == {"Bruno Reis": [2, 2], "Carla Dias": [2, 2]}
    assert result.moved == 0


def test_what_if_caps_count_the_replayed_leads_still_open_at_each_ones_time():
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Lima")
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Reis")
    team = queue_with_reps(ana, bruno, name="Team", capacity_per_rep=1)
    start = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
    for hour in range(4):  # each lead closed within the hour: nobody is ever at the cap
        with time_machine.travel(start + datetime.timedelta(hours=hour), tick=False):
            (assignment,) = leads_route(leads=[LeadFactory(stage=Stage.QUALIFIED)])
        Lead.objects.filter(pk=assignment.lead_id).update(
            stage=Stage.LOST,
            stage_changed_at=start + datetime.timedelta(hours=hour, minutes=30),
        )

    with time_machine.travel(start + datetime.timedelta(days=1), tick=False):
        result = what_if(
            queue=team, proposed={"capacity_per_rep": 1}, since=start - datetime.timedelta(1)
        )

    assert result.reps == {"Ana Lima": [2, 2], "Bruno Reis": [2, 2]}  # none waits
