"""The roll-up `LeadFacts`: what the triggers keep, event by event, equals a recount of the
events from scratch (`facts_rebuild`), and a lead's facts say what its history proves."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from leads.lifecycle import lead_move
from leads.models import Lead, LeadEvent, Stage
from portal.dashboard.facts import facts_rebuild
from portal.dashboard.models import LeadFacts
from tests.factories import LeadFactory
from tests.portal.dashboard.helpers import WAY, event, lead_imported_as, lead_through, submitted

pytestmark = pytest.mark.django_db

R, A = Stage.ROUTED, Stage.ACCEPTED
FIELDS = [
    "lead_id",
    "created_at",
    "form_id",
    "campaign",
    "queue_id",
    "owner_id",
    "stage",
    "first_action_at",
    "furthest",
    "disqualified",
    "rejected",
    "recycled",
    "lost",
    "routed_at",
    "contacted_at",
    "source",
    "rejected_reasons",
    "lost_reasons",
]


def _codes(kept: str) -> tuple[str, ...]:
    """The reason codes between commas, in order (the triggers keep them as they came)."""
    return tuple(sorted(kept.split(",")[1:-1]))


def _rows() -> list[tuple]:
    rows = LeadFacts.objects.order_by("lead_id").values_list(*FIELDS)
    return [(*row[:-2], _codes(row[-2]), _codes(row[-1])) for row in rows]


@pytest.fixture
def histories():
    now = timezone.now()
    won = lead_through(*WAY)
    rejected = lead_through(Stage.QUALIFIED, R, Stage.REJECTED, R, reason_code="no_budget")
    with transaction.atomic():
        lead_move(lead=rejected, to=Stage.REJECTED, reason="Again.", reason_code="duplicate")
        lead_move(lead=rejected, to=R, reason="Back.")
        lead_move(lead=rejected, to=Stage.REJECTED, reason="Once more.")
        lead_move(lead=rejected, to=R, reason="Back.")
        lead_move(lead=rejected, to=A, reason="Taken.")
    event(rejected, at=now + timedelta(hours=2), kind=LeadEvent.Kind.CONTACT_LOGGED)
    event(rejected, at=now + timedelta(hours=1), kind=LeadEvent.Kind.CONTACT_LOGGED)
    lead_through(Stage.DISQUALIFIED, Stage.QUALIFIED)
    lead_through(Stage.QUALIFIED, R, A, Stage.RECYCLED)
    imported = lead_imported_as(Stage.LOST, reason_code="price", attributes={"origin": "paid"})
    submitted(won, utm_source="google", at=won.created_at + timedelta(days=1))
    submitted(won, utm_source="bing", at=won.created_at)  # the first one says
    late = LeadFactory(attributes={"source": "fair"})
    with transaction.atomic():
        Lead.objects.filter(pk=late.pk).update(attributes={"utm_source": "partner"})
    event(late, at=now, to_stage=Stage.ROUTED)
    event(late, at=now - timedelta(minutes=5), to_stage=Stage.ROUTED)
    moved = LeadFactory(campaign="Spring")
    Lead.objects.filter(pk=moved.pk).update(
        campaign="Autumn", created_at=now - timedelta(days=400), first_action_at=now
    )
    return {
        "won": won,
        "rejected": rejected,
        "imported": imported,
        "late": late,
        "moved": moved,
    }


def test_the_triggers_keep_what_a_recount_of_the_events_finds(histories):
    kept = _rows()
    assert len(kept) == Lead.objects.count()
    facts_rebuild()
    assert _rows() == kept


def test_a_leads_facts_say_how_far_it_went_its_exits_first_times_and_source(histories):
    facts = {name: LeadFacts.objects.get(lead=lead) for name, lead in histories.items()}
    assert (facts["won"].furthest, facts["won"].source) == (6, "bing")
    rejected = facts["rejected"]
    assert (rejected.furthest, rejected.rejected, rejected.lost) == (3, True, False)
    assert rejected.rejected_reasons == ",no_budget,duplicate,,"
    assert _codes(facts["imported"].lost_reasons) == ("price",)
    first_contact = LeadEvent.objects.filter(
        lead=histories["rejected"], kind=LeadEvent.Kind.CONTACT_LOGGED
    ).order_by("at")[0]
    assert rejected.contacted_at == first_contact.at
    imported = facts["imported"]
    assert (imported.furthest, imported.lost, imported.source) == (5, True, "paid")
    late = facts["late"]
    assert late.source == "partner"  # the attributes changed after the lead was written
    assert late.routed_at == min(
        LeadEvent.objects.filter(lead=histories["late"], to_stage=R).values_list("at", flat=True)
    )


def test_the_facts_follow_the_leads_own_columns(histories):
    for lead in Lead.objects.all():
        facts = LeadFacts.objects.get(lead=lead)
        assert (facts.created_at, facts.campaign, facts.stage, facts.owner_id) == (
            lead.created_at,
            lead.campaign,
            lead.stage,
            lead.owner_id,
        )
        assert (facts.first_action_at, facts.queue_id, facts.form_id) == (
            lead.first_action_at,
            lead.queue_id,
            lead.source_form_id,
        )
    assert LeadFacts.objects.get(lead=histories["moved"]).campaign == "Autumn"


def test_an_event_rewritten_afterwards_is_recounted(histories):
    """The demo backdates its events (`portal.demo.services._backdate`): the facts follow."""
    won = histories["won"]
    earlier = timezone.now() - timedelta(days=30)
    routed = LeadEvent.objects.get(lead=won, to_stage=R)
    LeadEvent.objects.filter(pk=routed.pk).update(at=earlier)
    assert LeadFacts.objects.get(lead=won).routed_at == earlier
    kept = _rows()
    facts_rebuild()
    assert _rows() == kept
