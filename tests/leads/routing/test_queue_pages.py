"""A sales manager sets up the queues in the portal: who works which leads, in which order."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from leads.models import Stage
from leads.routing.models import Queue, QueueMember
from leads.routing.services import lead_route
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory, one_of, queue_with_reps

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = UserFactory(role=Role.SALES_MANAGER)
    client.force_login(user)
    return user


def reps(n):
    names = ["Ana", "Bruno", "Carla"][:n]
    return [UserFactory(first_name=name, role=Role.SALES_REP) for name in names]


def posted(**fields):
    data = {
        "name": "Brazil",
        "priority": 10,
        "is_active": "on",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_the_list_shows_each_queue_its_rule_and_reps_in_turn(client, manager):
    ana, bruno = reps(2)
    queue_with_reps(ana, bruno, name="Brazil", conditions=one_of("country", ["BR"], "country_in"))
    queue_with_reps(name="Empty")
    page = client.get(reverse("routing:queue_list"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "country is one of Brazil" in html
    assert "every lead (catch-all)" in html
    assert html.index(ana.get_full_name()) < html.index(bruno.get_full_name())
    assert "no reps: it takes no leads" in html
    assert ("routing:queue_list", "Queues") in page.context["nav"]


def test_no_queue_yet_says_what_happens_to_leads(client, manager):
    html = client.get(reverse("routing:queue_list")).content.decode()
    assert "No queues yet: qualified leads wait until one takes them." in html
    assert reverse("routing:queue_new") in html


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER])
def test_reps_and_marketing_may_not_see_or_change_queues(client, role):
    client.force_login(UserFactory(role=role))
    queue = queue_with_reps()
    assert client.get(reverse("routing:queue_list")).status_code == 403
    assert client.post(reverse("routing:queue_new"), posted()).status_code == 403
    assert client.post(reverse("routing:queue_edit", args=[queue.pk]), posted()).status_code == 403
    assert not Queue.objects.filter(name="Brazil").exists()


def test_a_manager_creates_a_queue_whose_reps_take_turns_in_the_order_listed(client, manager):
    ana, bruno = reps(2)
    answer = client.post(
        reverse("routing:queue_new"),
        posted(
            condition_0_attribute="country",
            condition_0_operator="one_of",
            condition_0_value=" Brazil, Portugal ,",
            members=[bruno.pk, ana.pk],
        ),
    )
    assert answer.status_code == 302
    queue = Queue.objects.get(name="Brazil")
    # countries are ISO codes, as leads keep them
    assert queue.conditions == one_of("country", ["BR", "PT"], "country_in")
    assert list(queue.members.values_list("rep", "position")) == [(ana.pk, 0), (bruno.pk, 1)]
    lead = LeadFactory(stage=Stage.QUALIFIED, attributes={"country": "PT"})
    assert lead_route(lead_id=lead.pk).rep == ana


def test_a_country_rule_takes_common_spellings_and_is_shown_by_name(client, manager):
    answer = client.post(
        reverse("routing:queue_new"),
        posted(
            condition_0_attribute="country",
            condition_0_operator="country_in",
            condition_0_value="USA, United States, Brasil",
        ),
    )
    assert answer.status_code == 302
    assert Queue.objects.get(name="Brazil").conditions[0]["value"] == ["US", "BR"]
    page = client.get(reverse("routing:queue_list")).content.decode()
    assert "country is one of United States of America, Brazil" in page


def test_a_country_rule_refuses_what_is_no_country(client, manager):
    answer = client.post(
        reverse("routing:queue_new"),
        posted(condition_0_attribute="country", condition_0_value="Narnia"),
    )
    assert answer.status_code == 400  # the form again, saying why
    assert "Not a country: Narnia" in answer.content.decode()
    assert not Queue.objects.filter(name="Brazil").exists()


def test_editing_keeps_the_turn_of_the_reps_who_stay(client, manager):
    ana, bruno, carla = reps(3)
    queue = queue_with_reps(ana, bruno, name="Brazil")
    lead_route(lead_id=LeadFactory(stage=Stage.QUALIFIED).pk)  # Ana's turn: the cursor is on her
    queue.refresh_from_db()
    assert queue.last_position == 0
    answer = client.post(
        reverse("routing:queue_edit", args=[queue.pk]),
        posted(capacity_per_rep=5, members=[bruno.pk, carla.pk]),
    )
    assert answer.status_code == 302
    queue.refresh_from_db()
    assert (queue.capacity_per_rep, queue.last_position) == (5, 0)
    assert list(queue.members.values_list("rep", "position")) == [(bruno.pk, 1), (carla.pk, 2)]
    owners = [lead_route(lead_id=LeadFactory(stage=Stage.QUALIFIED).pk).rep for _ in range(3)]
    assert owners == [bruno, carla, bruno]


def test_saving_does_not_move_the_cursor_back_when_routing_moved_it_meanwhile(client, manager):
    ana, bruno = reps(2)
    queue = queue_with_reps(ana, bruno, name="Brazil")
    page = client.get(reverse("routing:queue_edit", args=[queue.pk]))  # the manager reads it
    assert page.status_code == 200
    lead_route(lead_id=LeadFactory(stage=Stage.QUALIFIED).pk)  # then a lead goes to Ana
    client.post(reverse("routing:queue_edit", args=[queue.pk]), posted(members=[ana.pk, bruno.pk]))
    queue.refresh_from_db()
    assert queue.last_position == 0  # not -1, as the page had read it
    assert lead_route(lead_id=LeadFactory(stage=Stage.QUALIFIED).pk).rep == bruno


def test_the_edit_page_shows_what_is_set(client, manager):
    ana, bruno = reps(2)
    queue = queue_with_reps(
        ana, name="Brazil", conditions=one_of("country", ["BR", "CL"], "country_in")
    )
    bound = client.get(reverse("routing:queue_edit", args=[queue.pk])).context["bound"]
    assert bound["condition_0_value"].value() == "Brazil, Chile"
    assert bound["condition_0_operator"].value() == "country_in"
    assert bound["condition_1_attribute"].value() == ""  # room for another condition
    assert bound.initial["members"] == [ana.pk]
    assert set(bound.fields["members"].queryset) == {ana, bruno}  # a manager is no rep


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"condition_0_attribute": "country"}, "condition_0_value", "needs a list"),
        (
            {
                "condition_0_attribute": "size",
                "condition_0_operator": "at_least",
                "condition_0_value": "lots",
            },
            "condition_0_value",
            "“lots” is not a number",
        ),
        ({"condition_0_value": "BR"}, "condition_0_attribute", "Name the lead attribute"),
        ({"name": ""}, "name", "This field is required."),
        ({"capacity_per_rep": -1}, "capacity_per_rep", "greater than or equal to 0"),
    ],
)
def test_a_bad_queue_is_refused_naming_the_field(client, manager, fields, field, message):
    answer = client.post(reverse("routing:queue_new"), posted(**fields))
    assert answer.status_code == 400
    assert any(message in error for error in answer.context["bound"].errors[field])
    assert not Queue.objects.exists()


def test_two_queues_may_not_share_a_name(client, manager):
    queue_with_reps(name="Brazil")
    answer = client.post(reverse("routing:queue_new"), posted(name="Brazil"))
    assert answer.status_code == 400
    assert "already exists" in answer.context["bound"].errors["name"][0]
    assert Queue.objects.count() == 1


def test_a_rep_left_out_leaves_the_queue_and_keeps_their_leads(client, manager):
    ana, bruno = reps(2)
    queue = queue_with_reps(ana, bruno, name="Brazil")
    lead = LeadFactory(stage=Stage.QUALIFIED)
    lead_route(lead_id=lead.pk)
    client.post(reverse("routing:queue_edit", args=[queue.pk]), posted(members=[bruno.pk]))
    assert not QueueMember.objects.filter(rep=ana).exists()
    lead.refresh_from_db()
    assert lead.owner == ana


def test_a_new_queue_page_starts_with_no_values(client, manager):
    bound = client.get(reverse("routing:queue_new")).context["bound"]
    assert bound["condition_0_value"].value() == ""  # not "[]", which a save would keep
    assert bound["is_active"].value() is True


def test_a_member_whose_account_was_deactivated_is_shown_and_kept_unless_unticked(client, manager):
    ana, bruno = reps(2)
    queue = queue_with_reps(ana, bruno, name="Brazil")
    bruno.is_active = False
    bruno.save(update_fields=["is_active"])
    url = reverse("routing:queue_edit", args=[queue.pk])

    page = client.get(url)
    assert page.context["bound"].initial["members"] == [ana.pk, bruno.pk]
    bruno_label = f"{bruno.get_full_name()} (account deactivated: gets no leads while it is)"
    assert bruno_label in page.content.decode()
    saved = client.post(url, posted(capacity_per_rep=3, members=[ana.pk, bruno.pk]))
    assert saved.status_code == 302
    queue.refresh_from_db()
    assert queue.capacity_per_rep == 3
    assert list(queue.members.values_list("rep", "position")) == [(ana.pk, 0), (bruno.pk, 1)]
    assert lead_route(lead_id=LeadFactory(stage=Stage.QUALIFIED).pk).rep == ana  # not Bruno
    listed = client.get(reverse("routing:queue_list")).content.decode()
    assert f"{bruno.get_full_name()} (account deactivated)" in listed

    client.post(url, posted(members=[ana.pk]))  # unticked: he leaves the queue
    assert list(queue.members.values_list("rep", flat=True)) == [ana.pk]


def test_a_deactivated_user_who_is_not_a_member_is_not_offered(client, manager):
    ana, bruno = reps(2)
    bruno.is_active = False
    bruno.save(update_fields=["is_active"])
    bound = client.get(reverse("routing:queue_new")).context["bound"]
    assert set(bound.fields["members"].queryset) == {ana}


def test_a_member_now_in_marketing_is_shown_as_getting_no_leads(client, manager):
    ana, bruno = reps(2)
    queue = queue_with_reps(ana, bruno, name="Brazil")
    bruno.groups.set([Group.objects.get(name=Role.MARKETER.value)])
    page = client.get(reverse("routing:queue_edit", args=[queue.pk])).content.decode()
    assert f"{bruno.get_full_name()} (no longer has a role that works leads: gets none)" in page
    listed = client.get(reverse("routing:queue_list")).content.decode()
    assert f"{bruno.get_full_name()} (no longer works leads)" in listed
    assert listed.index(ana.get_full_name()) < listed.index(bruno.get_full_name())


@pytest.mark.parametrize("priority", ["-1", "-50"])
def test_a_negative_priority_is_refused_on_its_field_saying_why(client, manager, priority):
    response = client.post(reverse("routing:queue_new"), posted(priority=priority))
    assert response.status_code == 400
    errors = response.context["bound"].errors
    assert list(errors) == ["priority"]
    message = "A priority is a whole number from 0: queues are tried from the lowest, 0 first."
    assert errors["priority"] == [message]
    assert message in response.content.decode()
    assert not Queue.objects.exists()


def test_a_priority_that_is_not_a_number_says_so(client, manager):
    response = client.post(reverse("routing:queue_new"), posted(priority="first"))
    assert response.context["bound"].errors["priority"] == [
        "A priority is a whole number from 0, e.g. 10."
    ]
