"""An imported outcome: recorded dated in the past, and only on a lead no rep has worked."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from leads.lifecycle import IllegalMove, lead_record_outcome
from leads.models import Stage
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db
WON_AT = datetime(2018, 2, 26, 22, 58, tzinfo=UTC)


def _record(lead, to=Stage.WON, at=WON_AT, by=None):
    with transaction.atomic():
        return lead_record_outcome(lead=lead, to=to, at=at, by=by, reason="Won (imported).")


@pytest.mark.parametrize(
    "stage", [Stage.CAPTURED, Stage.DISQUALIFIED, Stage.QUALIFIED, Stage.RECYCLED]
)
def test_an_outcome_is_recorded_with_its_own_date_on_a_lead_before_sales(stage):
    by = UserFactory()
    lead = LeadFactory(stage=stage)

    event = _record(lead, by=by)

    lead.refresh_from_db()
    assert (lead.stage, lead.stage_changed_at) == (Stage.WON, WON_AT)
    assert (event.at, event.actor, event.from_stage, event.to_stage) == (WON_AT, by, stage, "won")
    assert event.data == {"historic": True}


@pytest.mark.parametrize("stage", [Stage.ROUTED, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON])
def test_a_lead_with_a_rep_or_an_outcome_keeps_its_history(stage):
    lead = LeadFactory(stage=stage)
    with pytest.raises(IllegalMove):
        _record(lead, to=Stage.LOST)
    lead.refresh_from_db()
    assert lead.stage == stage


def test_only_an_outcome_can_be_recorded_from_history():
    with pytest.raises(IllegalMove):
        _record(LeadFactory(), to=Stage.ROUTED)


def test_an_outcome_in_the_future_is_refused():
    with pytest.raises(ValueError, match="future"):
        _record(LeadFactory(), at=timezone.now() + timedelta(days=1))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_runs_only_inside_the_transaction_that_locks_the_lead():
    with pytest.raises(RuntimeError):
        lead_record_outcome(lead=LeadFactory(), to=Stage.WON, at=WON_AT, by=None, reason="x")
