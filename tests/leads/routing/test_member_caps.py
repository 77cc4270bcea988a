"""A rep's own caps in a queue (open leads, leads a day): set on the queue page and through the
API, shown with the rep's load, and kept by routing, the simulator and the ladder alike."""

import pytest
from django.urls import reverse

from leads.models import Stage
from leads.routing.models import QueueMember
from leads.routing.services import leads_route
from leads.routing.simulator import simulate
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db


def qualified(n=1):
    return [LeadFactory(stage=Stage.QUALIFIED) for _ in range(n)]


def caps(queue, rep, open_cap=None, daily_cap=None):
    QueueMember.objects.filter(queue=queue, rep=rep).update(open_cap=open_cap, daily_cap=daily_cap)


def test_a_reps_own_cap_of_open_leads_replaces_the_queues_for_them_alone():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(ana, bruno, capacity_per_rep=1)
    caps(queue, ana, open_cap=3)
    owners = [a.rep for a in leads_route(leads=qualified(5))]
    assert owners == [ana, bruno, ana, ana]  # the fifth waits: both at their caps
    assert queue.assignments.count() == 4


def test_a_reps_own_day_cap_holds_while_the_queue_has_none():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(ana, bruno)
    caps(queue, bruno, daily_cap=1)
    owners = [a.rep for a in leads_route(leads=qualified(4))]
    assert owners == [ana, bruno, ana, ana]
    lead = LeadFactory(stage=Stage.QUALIFIED)
    (assignment,) = leads_route(leads=[lead])
    why = assignment.lead.events.get(kind="assigned").data["why"]
    assert [(s["rep"], s["why"]) for s in why["skipped"]] == [(bruno.pk, "day_cap")]


def test_the_simulator_reads_the_reps_own_caps():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP, first_name="Ana")
    bruno.first_name = "Bruno"
    bruno.save()
    LeadFactory(stage=Stage.ACCEPTED, owner=ana)
    queue = queue_with_reps(ana, bruno, name="Team")
    caps(queue, ana, open_cap=1)
    outcome = simulate({"country": "BR"})
    assert outcome.rep.startswith("Bruno")
    assert any("at the cap of open leads" in line for line in outcome.why)


@pytest.fixture
def manager(client):
    user = UserFactory(role=Role.SALES_MANAGER)
    client.force_login(user)
    return user


def test_the_manager_sets_a_reps_own_caps_beside_their_load_on_the_queue_page(client, manager):
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Lima")
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Reis")
    LeadFactory.create_batch(2, stage=Stage.ACCEPTED, owner=ana)
    queue = queue_with_reps(ana, bruno, name="Team", capacity_per_rep=2)
    url = reverse("routing:queue_edit", args=[queue.pk])
    page = client.get(url)
    rows = {row["rep"]: row for row in page.context["members"]}
    assert (rows[ana]["open"], rows[ana]["today"]) == (2, 0)
    html = page.content.decode()
    assert "Open leads Ana Lima may hold" in html and "Own cap: leads a day" in html
    assert "Leads per rep per day" in html  # the queue's own caps stay above the table

    answer = client.post(
        url,
        {
            "name": "Team",
            "priority": 10,
            "is_active": "on",
            "capacity_per_rep": 2,
            "members": [ana.pk, bruno.pk],
            f"open_cap_{ana.pk}": 4,
            f"daily_cap_{bruno.pk}": 6,
        },
    )

    assert answer.status_code == 302
    saved = {m.rep_id: (m.open_cap, m.daily_cap) for m in queue.members.all()}
    assert saved == {ana.pk: (4, None), bruno.pk: (None, 6)}
    listed = client.get(reverse("routing:queue_list")).content.decode()
    assert "2 open, own cap 4 open" in listed and "own cap 6 a day" in listed
    # Blank again: the queue's cap.
    client.post(
        url,
        {"name": "Team", "priority": 10, "is_active": "on", "members": [ana.pk, bruno.pk]},
    )
    assert set(queue.members.values_list("open_cap", "daily_cap")) == {(None, None)}


def test_a_negative_own_cap_is_refused_on_its_field(client, manager):
    ana = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(ana, name="Team")
    answer = client.post(
        reverse("routing:queue_edit", args=[queue.pk]),
        {"name": "Team", "priority": 10, "members": [ana.pk], f"open_cap_{ana.pk}": -1},
    )
    assert answer.status_code == 400
    assert answer.context["bound"].errors[f"open_cap_{ana.pk}"]
    assert queue.members.get().open_cap is None
