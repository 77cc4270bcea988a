"""Every attempt is signed per Standard Webhooks, and the `standardwebhooks` package (what a
receiver uses) verifies it."""

import json

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from portal.integrations.webhooks.sending import delivery_attempt
from portal.integrations.webhooks.services import endpoint_create, events_emit
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_delivery_is_signed_so_that_standardwebhooks_verifies_it(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_create(name="CRM", url=receiver.url, kinds=["lead.won"], by=UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        events_emit([("lead.won", {"lead": {"id": 7}})])

    (request,) = receiver.received
    verified = Webhook(endpoint.secret).verify(request["body"], request["headers"])
    assert verified["type"] == "lead.won"
    assert verified["data"] == {"lead": {"id": 7}}
    delivery = endpoint.deliveries.get()
    assert request["headers"]["webhook-id"] == delivery.msg_id
    assert request["headers"]["webhook-signature"].startswith("v1,")


def test_a_body_changed_on_the_way_or_another_secret_fails_verification(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_create(name="CRM", url=receiver.url, kinds=["lead.won"], by=None)
    with django_capture_on_commit_callbacks(execute=True):
        events_emit([("lead.won", {"lead": {"id": 7}})])
    (request,) = receiver.received
    tampered = json.dumps({**json.loads(request["body"]), "data": {"lead": {"id": 8}}})
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(tampered, request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 32).verify(request["body"], request["headers"])


def test_a_new_secret_signs_the_next_attempt(receiver, django_capture_on_commit_callbacks):
    from portal.integrations.webhooks.services import endpoint_secret_rotate

    endpoint = endpoint_create(name="CRM", url=receiver.url, kinds=["lead.won"], by=None)
    old = endpoint.secret
    endpoint_secret_rotate(endpoint=endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        events_emit([("lead.won", {})])
    (request,) = receiver.received
    Webhook(endpoint.secret).verify(request["body"], request["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request["body"], request["headers"])
    assert delivery_attempt(delivery_id=endpoint.deliveries.get().pk) is None  # done already
