"""The endpoint form says which field is wrong and why; nothing is saved until it is right."""

import pytest
from django.urls import reverse

from portal.accounts.roles import Role
from portal.integrations.webhooks.models import Delivery, Endpoint
from tests.factories import DeliveryFactory, EndpointFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    return client


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/x", "is a private, loopback or link-local address"),
        ("https://169.254.169.254/latest", "is a private, loopback or link-local address"),
        ("ftp://crm.example.com/x", "Use a URL starting with"),
        ("https://no-such-host.invalid/x", "cannot be resolved"),
    ],
)
def test_a_url_that_may_not_receive_webhooks_is_refused_on_its_field(manager, settings, url, says):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    response = manager.post(
        reverse("webhooks:new"), {"name": "CRM", "url": url, "kinds": ["lead.won"]}
    )
    assert response.status_code == 400
    assert says in " ".join(response.context["bound"].errors["url"])
    assert not Endpoint.objects.exists()


def test_an_endpoint_needs_at_least_one_known_kind(manager):
    response = manager.post(
        reverse("webhooks:new"),
        {"name": "CRM", "url": "https://93.184.216.34/x", "kinds": ["lead.eaten"]},
    )
    assert response.status_code == 400
    assert "kinds" in response.context["bound"].errors
    assert not Endpoint.objects.exists()


def test_a_saved_endpoint_opens_on_its_page_with_its_secret(manager):
    response = manager.post(
        reverse("webhooks:new"),
        {"name": "CRM", "url": "https://93.184.216.34/x", "kinds": ["lead.won", "lead.captured"]},
    )
    endpoint = Endpoint.objects.get()
    assert response["Location"] == reverse("webhooks:endpoint", kwargs={"pk": endpoint.pk})
    assert endpoint.kinds == ["lead.captured", "lead.won"]  # in the registry's order
    page = manager.get(response["Location"]).content.decode()
    assert endpoint.secret in page


def test_the_deliveries_download_as_csv(manager):
    endpoint = EndpointFactory()
    endpoint.deliveries.create(kind="lead.won", msg_id="msg_abc", payload={})
    response = manager.get(reverse("webhooks:deliveries_csv", kwargs={"pk": endpoint.pk}))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("delivery,webhook_id,event")
    assert "msg_abc,lead.won" in lines[1]


def test_send_again_to_a_switched_off_endpoint_says_so_and_changes_nothing(manager):
    endpoint = EndpointFactory(is_active=False, disabled_reason="Switched off by ann.")
    delivery = DeliveryFactory(
        endpoint=endpoint, status=Delivery.Status.FAILED, next_attempt_at=None
    )

    response = manager.post(reverse("webhooks:redeliver", kwargs={"pk": delivery.pk}), follow=True)

    said = [str(message) for message in response.context["messages"]]
    assert any("is switched off" in message and "Switch it on" in message for message in said)
    assert not any("is sent again" in message for message in said)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (Delivery.Status.FAILED, None)


def test_send_again_to_a_live_endpoint_queues_it_again(manager):
    delivery = DeliveryFactory(status=Delivery.Status.FAILED, next_attempt_at=None)

    response = manager.post(reverse("webhooks:redeliver", kwargs={"pk": delivery.pk}), follow=True)

    assert any("is sent again" in str(m) for m in response.context["messages"])
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING
