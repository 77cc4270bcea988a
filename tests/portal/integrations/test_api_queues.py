"""Queues through the API: the same rule, strategy and hours as the queue page."""

from django.test import Client
from django.urls import reverse

from leads.routing.models import Queue
from tests.portal.integrations.conftest import REP, SALES_MGR


def _post(world, body, url=None, method="post"):
    client = Client()
    call = getattr(client, method)
    return call(
        url or reverse("api:queue-list"),
        body,
        "application/json",
        headers=world.headers(SALES_MGR),
    )


def test_a_queue_is_made_with_conditions_a_weight_and_its_own_hours(world):
    rep = world.users[REP]
    body = {
        "name": "Big Brazil",
        "priority": 3,
        "conditions": [
            {"attribute": "country", "operator": "country_in", "value": ["Brazil"]},
            {"attribute": "company_size", "operator": "at_least", "value": 500},
        ],
        "strategy": "weighted",
        "members": [rep.pk],
        "weights": {str(rep.pk): 3},
        "business_days": [0, 1, 2, 3, 4],
        "business_opens": "09:00",
        "business_closes": "17:00",
        "time_zone": "America/Sao_Paulo",
    }

    response = _post(world, body)

    assert response.status_code == 201, response.content[:500]
    queue = Queue.objects.get(name="Big Brazil")
    assert queue.conditions == [
        {"attribute": "country", "operator": "country_in", "value": ["BR"], "blank_passes": False},
        {"attribute": "company_size", "operator": "at_least", "value": 500, "blank_passes": False},
    ]
    assert queue.takes({"country": "BR", "company_size": 800})
    assert not queue.takes({"country": "BR", "company_size": 20})
    assert (queue.strategy, queue.time_zone) == ("weighted", "America/Sao_Paulo")
    assert queue.members.get().weight == 3
    answer = response.json()
    assert answer["conditions"][0]["value"] == ["BR"]
    assert answer["members"][0]["weight"] == 3


def test_a_patch_keeps_the_conditions_it_does_not_send(world):
    queue = Queue.objects.create(
        name="US",
        priority=1,
        conditions=[{"attribute": "country", "operator": "country_in", "value": ["US"]}],
    )
    url = reverse("api:queue-detail", kwargs={"pk": queue.pk})

    response = _post(world, {"priority": 7}, url, method="patch")

    assert response.status_code == 200, response.content[:500]
    queue.refresh_from_db()
    assert queue.priority == 7
    assert queue.takes({"country": "US"}) and not queue.takes({"country": "BR"})


def test_a_bad_condition_is_a_400_naming_it(world):
    body = {
        "name": "Odd",
        "priority": 2,
        "conditions": [{"attribute": "country", "operator": "country_in", "value": ["Narnia"]}],
    }

    response = _post(world, body)

    assert response.status_code == 400
    assert "conditions[0].value" in response.content.decode()
    assert "Narnia" in response.content.decode()
    assert not Queue.objects.filter(name="Odd").exists()


def test_a_reps_own_caps_are_set_shown_and_kept_by_a_patch_that_does_not_send_them(world):
    rep = world.users[REP]
    body = {"name": "Capped", "priority": 4, "members": [rep.pk], "open_caps": {str(rep.pk): 4}}
    created = _post(world, body)
    assert created.status_code == 201, created.content[:500]
    assert created.json()["members"][0]["open_cap"] == 4
    queue = Queue.objects.get(name="Capped")
    url = reverse("api:queue-detail", kwargs={"pk": queue.pk})

    patched = _post(world, {"daily_caps": {str(rep.pk): 9}}, url, method="patch")

    assert patched.status_code == 200, patched.content[:500]
    assert (
        patched.json()["members"][0]["open_cap"],
        patched.json()["members"][0]["daily_cap"],
    ) == (4, 9)
    cleared = _post(world, {"open_caps": {str(rep.pk): None}}, url, method="patch")
    assert cleared.json()["members"][0]["open_cap"] is None
