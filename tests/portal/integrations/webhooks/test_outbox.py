"""A delivery row per subscribed endpoint is written in the transaction of the event: the
lead's change, its event and its deliveries commit together or not at all."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.lifecycle import lead_move
from leads.models import Stage
from portal.accounts.roles import Role
from portal.integrations.webhooks.models import Delivery
from portal.integrations.webhooks.services import events_emit
from scoring.models import Agreement
from scoring.services import agreement_sign
from tests.factories import AgreementFactory, EndpointFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def _win(lead):
    return lead_move(lead=lead, to=Stage.WON, reason="Signed the order.")


def test_a_lead_won_writes_a_delivery_for_each_endpoint_that_wants_it():
    wants, also = (
        EndpointFactory(kinds=["lead.won"]),
        EndpointFactory(kinds=["lead.lost", "lead.won"]),
    )
    EndpointFactory(kinds=["lead.lost"])
    EndpointFactory(kinds=["lead.won"], is_active=False)
    lead = LeadFactory(stage=Stage.OPPORTUNITY, company="Acme")
    with transaction.atomic():
        _win(lead)
    deliveries = Delivery.objects.order_by("endpoint_id")
    assert [d.endpoint_id for d in deliveries] == [wants.pk, also.pk]
    payload = deliveries[0].payload
    assert payload["type"] == "lead.won"
    assert payload["data"]["lead"]["id"] == lead.pk
    assert payload["data"]["lead"]["company"] == "Acme"
    assert payload["data"]["event"]["from_stage"] == Stage.OPPORTUNITY
    assert payload["data"]["event"]["reason"] == "Signed the order."
    assert deliveries[0].msg_id != deliveries[1].msg_id


def test_a_change_rolled_back_leaves_no_delivery_and_sends_nothing(
    receiver, django_capture_on_commit_callbacks
):
    EndpointFactory(kinds=["lead.won"], url=receiver.url)
    lead = LeadFactory(stage=Stage.OPPORTUNITY)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _win(lead)
        assert Delivery.objects.count() == 1  # written with the event...
        raise RuntimeError("the change fails after its event was written")
    assert Delivery.objects.count() == 0  # ...and gone with it
    assert callbacks == []
    assert receiver.received == []


def test_the_delivery_is_queued_only_after_the_commit(receiver, django_capture_on_commit_callbacks):
    EndpointFactory(kinds=["lead.won"], url=receiver.url)
    lead = LeadFactory(stage=Stage.OPPORTUNITY)
    with django_capture_on_commit_callbacks(execute=True):
        _win(lead)
        assert receiver.received == []
    assert [p["type"] for p in receiver.payloads()] == ["lead.won"]
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_a_batch_of_events_costs_the_same_queries_for_ten_as_for_forty():
    EndpointFactory(kinds=["lead.won"])
    EndpointFactory(kinds=["lead.won", "lead.lost"])

    def queries(count: int) -> int:
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            events_emit([("lead.won", {"n": n}) for n in range(count)])
        return len(captured.captured_queries)

    assert queries(10) == queries(40)
    assert Delivery.objects.count() == 100


def test_without_an_endpoint_for_the_kind_nothing_is_built_or_written():
    EndpointFactory(kinds=["lead.lost"])

    def never():
        raise AssertionError("the payload was built for nobody")

    assert events_emit([("lead.won", never)]) == 0
    assert Delivery.objects.count() == 0


def test_an_activated_agreement_is_told_to_the_endpoints_that_want_it(
    django_capture_on_commit_callbacks,
):
    endpoint = EndpointFactory(kinds=["agreement.activated"])
    AgreementFactory(version=1)
    proposal = Agreement.objects.create(version=2)
    Agreement.objects.filter(pk=proposal.pk).update(proposed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False):
        agreement_sign(agreement=proposal, by=UserFactory(role=Role.SALES_MANAGER), side="sales")
        assert not endpoint.deliveries.exists()  # one signature does not activate it
        agreement_sign(
            agreement=proposal, by=UserFactory(role=Role.MARKETING_MANAGER), side="marketing"
        )
    (delivery,) = endpoint.deliveries.all()
    assert delivery.kind == "agreement.activated"
    assert delivery.payload["data"]["agreement"]["version"] == 2
