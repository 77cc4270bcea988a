import pytest
from django.db import transaction

from leads.lifecycle import TRANSITIONS, IllegalMove, lead_move, moves_from
from leads.models import LeadEvent, Stage
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Stage
# Every arrow of the lifecycle in shared/GLOSSARY.md, written out by hand: nurture is
# disqualified or recycled, and a lead comes back from it when it qualifies again.
GLOSSARY_ARROWS = {
    (S.CAPTURED, S.DISQUALIFIED),
    (S.CAPTURED, S.QUALIFIED),
    (S.DISQUALIFIED, S.QUALIFIED),
    (S.RECYCLED, S.QUALIFIED),
    (S.QUALIFIED, S.ROUTED),
    (S.ROUTED, S.ACCEPTED),
    (S.ROUTED, S.REJECTED),
    (S.ACCEPTED, S.CONTACTED),
    (S.ACCEPTED, S.LOST),
    (S.ACCEPTED, S.RECYCLED),
    (S.REJECTED, S.RECYCLED),
    (S.REJECTED, S.ROUTED),
    (S.CONTACTED, S.OPPORTUNITY),
    (S.CONTACTED, S.LOST),
    (S.CONTACTED, S.RECYCLED),
    (S.OPPORTUNITY, S.WON),
    (S.OPPORTUNITY, S.LOST),
    (S.OPPORTUNITY, S.RECYCLED),
}


def test_the_transition_table_is_exactly_the_glossarys_arrows():
    assert set(TRANSITIONS) == set(Stage.values)
    arrows = {(from_, to) for from_, targets in TRANSITIONS.items() for to in targets}
    assert arrows == GLOSSARY_ARROWS


@pytest.mark.parametrize("stage", Stage.values)
def test_pages_are_offered_exactly_the_arrows_out_of_a_stage(stage):
    assert moves_from(stage) == {to for from_, to in GLOSSARY_ARROWS if from_ == stage}


def test_a_move_records_who_when_from_to_and_why():
    lead = LeadFactory(stage=Stage.ROUTED)
    rep = UserFactory()
    with transaction.atomic():
        event = lead_move(lead=lead, to=Stage.ACCEPTED, by=rep, reason="Looks good.")
    lead.refresh_from_db()
    assert lead.stage == Stage.ACCEPTED
    assert lead.stage_changed_at == event.at
    assert (event.kind, event.from_stage, event.to_stage, event.actor, event.reason) == (
        LeadEvent.Kind.STAGE_CHANGED,
        Stage.ROUTED,
        Stage.ACCEPTED,
        rep,
        "Looks good.",
    )


@pytest.mark.parametrize(
    ("from_", "to"),
    sorted({(f, t) for f in Stage.values for t in Stage.values} - GLOSSARY_ARROWS),
)
def test_every_move_off_the_arrows_is_refused_and_leaves_no_trace(from_, to):
    lead = LeadFactory(stage=from_)
    with pytest.raises(IllegalMove) as refused, transaction.atomic():
        lead_move(lead=lead, to=to, reason="Skipping ahead.")
    assert refused.value.code == "illegal_move"
    assert refused.value.status == 409
    lead.refresh_from_db()
    assert lead.stage == from_
    assert not LeadEvent.objects.exists()


def test_events_are_history_and_cannot_be_edited():
    lead = LeadFactory(stage=Stage.ROUTED)
    with transaction.atomic():
        event = lead_move(lead=lead, to=Stage.ACCEPTED, reason="Looks good.")
    event.reason = "Rewritten."
    with pytest.raises(ValueError, match="never edited"):
        event.save()


def test_event_ids_only_grow_in_the_order_things_happened():
    lead = LeadFactory(stage=Stage.ROUTED)
    with transaction.atomic():
        first = lead_move(lead=lead, to=Stage.ACCEPTED, reason="Yes.")
        second = lead_move(lead=lead, to=Stage.CONTACTED, reason="Called.")
    assert first.id < second.id
    assert list(lead.events.values_list("id", flat=True)) == [first.id, second.id]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_move_outside_a_transaction_is_refused():
    lead = LeadFactory(stage=Stage.CAPTURED)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        lead_move(lead=lead, to=Stage.QUALIFIED, reason="No lock held.")


def test_only_a_qualified_lead_is_kept_from_reps_and_the_event_says_why():
    from leads.lifecycle import leads_keep_from_reps

    qualified, routed = LeadFactory(stage=S.QUALIFIED), LeadFactory(stage=S.ROUTED)
    with transaction.atomic():
        with pytest.raises(IllegalMove):
            leads_keep_from_reps(leads=[qualified, routed], reason="History.", data={})
        leads_keep_from_reps(leads=[qualified], reason="History.", data={"not_for_reps": True})

    qualified.refresh_from_db(), routed.refresh_from_db()
    assert (qualified.stage, routed.stage) == (S.RECYCLED, S.ROUTED)
    event = qualified.events.get()
    assert (event.from_stage, event.to_stage, event.reason, event.actor) == (
        S.QUALIFIED,
        S.RECYCLED,
        "History.",
        None,
    )
    assert event.data == {"not_for_reps": True}
