"""The routing simulator: where a lead would go and why, changing nothing; and a what-if."""

import pytest
from django.urls import reverse

from leads.models import Stage
from leads.routing.models import Assignment, Availability, Queue, QueueMember
from leads.routing.services import leads_route
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
