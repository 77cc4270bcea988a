import pytest
from django.db import transaction

from leads.lifecycle import TRANSITIONS, IllegalMove, lead_move
from leads.models import HandoffEvent, Stage
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_stage_has_its_arrows_defined():
    assert set(TRANSITIONS) == set(Stage.values)


def test_glossary_arrows_are_the_only_ones():
    assert TRANSITIONS[Stage.CAPTURED] == {Stage.QUALIFIED, Stage.DISQUALIFIED}
    assert TRANSITIONS[Stage.ROUTED] == {Stage.ACCEPTED, Stage.REJECTED}
    assert TRANSITIONS[Stage.REJECTED] == {Stage.RECYCLED, Stage.ROUTED}
    assert TRANSITIONS[Stage.OPPORTUNITY] == {Stage.WON, Stage.LOST}
    assert TRANSITIONS[Stage.WON] == TRANSITIONS[Stage.LOST] == frozenset()


def test_a_move_records_who_when_from_to_and_why():
    lead = LeadFactory(stage=Stage.ROUTED)
    rep = UserFactory()
    with transaction.atomic():
        event = lead_move(lead=lead, to=Stage.ACCEPTED, by=rep, reason="Looks good.")
    lead.refresh_from_db()
    assert lead.stage == Stage.ACCEPTED
    assert lead.stage_changed_at == event.at
    assert (event.from_stage, event.to_stage, event.actor, event.reason) == (
        Stage.ROUTED,
        Stage.ACCEPTED,
        rep,
        "Looks good.",
    )


def test_a_move_off_the_arrows_is_refused_and_leaves_no_trace():
    lead = LeadFactory(stage=Stage.CAPTURED)
    with (
        pytest.raises(IllegalMove, match="A captured lead cannot become won"),
        transaction.atomic(),
    ):
        lead_move(lead=lead, to=Stage.WON, reason="Skipping ahead.")
    lead.refresh_from_db()
    assert lead.stage == Stage.CAPTURED
    assert not HandoffEvent.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_move_outside_a_transaction_is_refused():
    lead = LeadFactory(stage=Stage.CAPTURED)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        lead_move(lead=lead, to=Stage.QUALIFIED, reason="No lock held.")
