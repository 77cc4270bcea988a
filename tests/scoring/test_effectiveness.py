"""Criterion effectiveness against a fixture counted by hand."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent, Stage
from portal.accounts.roles import Role
from scoring.effectiveness import TRUST, effectiveness
from scoring.models import Criterion
from tests.factories import (
    AgreementFactory,
    CriterionFactory,
    FormFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def decided(form, count, *, size, phone, accepted, won=0, days_ago=5, **lead_fields):
    """`count` leads a rep decided on `days_ago` days ago: the first `accepted` accepted (the
    first `won` of those won), the rest rejected for no budget."""
    at = timezone.now() - timedelta(days=days_ago)
    attributes = {"company_size": str(size), **({"phone": "+55 11 5555 0000"} if phone else {})}
    events = []
    for i in range(count):
        took = i < accepted
        stage = Stage.WON if i < won else Stage.ACCEPTED if took else Stage.REJECTED
        lead = LeadFactory(source_form=form, stage=stage, attributes=attributes, **lead_fields)
        for to in (Stage.ROUTED, Stage.ACCEPTED if took else Stage.REJECTED):
            events.append(
                LeadEvent(
                    lead=lead,
                    kind=LeadEvent.Kind.STAGE_CHANGED,
                    to_stage=to,
                    at=at,
                    reason="test",
                    reason_code="" if took else "no_budget",
                )
            )
    LeadEvent.objects.bulk_create(events)


@pytest.fixture
def active():
    """Active: company size at least 50 (mandatory); a phone is given, +10; threshold 0.

    Decided in the last 90 days (hand count):
    - 40 leads of 100 people with a phone: 30 accepted (10 of them won), 10 rejected;
    - 20 leads of 100 people without a phone: 5 accepted (none won), 15 rejected;
    - 3 leads of 20 people without a phone (judged by an older version): 1 accepted, 2 rejected.
    Not counted: 4 leads decided 120 days ago, and 5 routed but not yet decided.

    Company size: passed 60 (35 accepted, 25 rejected: 35/60; 10 won of 35), failed 3
    (1 accepted: fewer than 30, too few to trust). Phone: passed 40 (30/40 = 75 %, 10 won of
    30), failed 23 (6 accepted, 17 rejected; too few).
    Threshold, over the 60 passing the mandatory one: at 0, 35 - 25 = +10; at 10 (only the
    40 with a phone), 30 - 10 = +20: raise to 10, which drops the 20 without a phone
    (5 accepted, 15 rejected: acceptance 25 %, none won).
    """
    agreement = AgreementFactory()
    CriterionFactory(
        agreement=agreement,
        label="Phone",
        kind=Criterion.Kind.SCORING,
        attribute="phone",
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=10,
        position=1,
    )
    form = FormFactory()
    decided(form, 40, size=100, phone=True, accepted=30, won=10)
    decided(form, 20, size=100, phone=False, accepted=5)
    decided(form, 3, size=20, phone=False, accepted=1)
    decided(form, 4, size=100, phone=True, accepted=4, days_ago=120)
    for lead in LeadFactory.create_batch(5, source_form=form, stage=Stage.ROUTED):
        LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.STAGE_CHANGED, to_stage=Stage.ROUTED, reason="test"
        )
    return agreement


def test_effectiveness_matches_the_hand_count(active):
    result = effectiveness(agreement=active, days=90)
    assert result.decided == 63
    size, phone = result.criteria
    assert (size.label, size.passed.decided, size.passed.accepted, size.passed.won) == (
        "Company size",
        60,
        35,
        10,
    )
    assert (size.failed.decided, size.failed.accepted) == (3, 1)
    assert size.passed.acceptance == pytest.approx(35 / 60)
    assert size.passed.win_rate == pytest.approx(10 / 35)
    assert (phone.passed.decided, phone.passed.accepted, phone.passed.won) == (40, 30, 10)
    assert phone.passed.acceptance == 0.75
    assert (phone.failed.decided, phone.failed.accepted, phone.failed.rejected) == (23, 6, 17)


def test_a_side_with_fewer_than_30_decided_leads_says_it_is_too_few(active):
    size, phone = effectiveness(agreement=active).criteria
    assert TRUST == 30
    assert size.too_few == ["failed"]
    assert phone.too_few == ["failed"]


def test_the_suggested_threshold_keeps_the_most_accepted_minus_rejected(active):
    suggestion = effectiveness(agreement=active).suggestion
    assert (suggestion.current, suggestion.threshold, suggestion.direction) == (0, 10, "raise")
    assert (suggestion.net_now, suggestion.net) == (10, 20)
    changed = suggestion.changed
    assert (changed.leads, changed.accepted, changed.rejected, changed.won) == (20, 5, 15, 0)
    assert changed.acceptance == 0.25


def test_no_threshold_is_suggested_on_fewer_than_30_decided_leads(active):
    Lead.objects.filter(attributes__has_key="phone").delete()
    result = effectiveness(agreement=active)
    assert result.decided == 23
    assert result.suggestion is None


def test_the_agreement_page_shows_each_criterion_and_the_suggestion(active, client):
    client.force_login(UserFactory(role=Role.SALES_REP))
    page = client.get(reverse("scoring:agreement")).content.decode()
    assert 'id="effectiveness"' in page
    assert "63 leads decided in the last 90 days" in page
    assert "60 · 58 % · 29 %" in page  # company size, passed: 35/60 accepted, 10/35 won
    assert "Too few to trust: failed by fewer than 30 decided leads." in page
    assert "Suggested: <strong>10 points</strong> instead of 0." in page


def test_imported_outcomes_count_as_decisions_years_back_and_say_so(client):
    """No rep has worked a lead: 40 leads of 100 people imported as won from three years ago,
    and 30 of 10 people imported as rejected (no budget). Company size at least 50 passes the
    40 (all accepted: won) and fails the 30 (all rejected)."""
    from tests.portal.dashboard.helpers import lead_imported_as

    agreement = AgreementFactory()
    form = FormFactory()
    for _ in range(40):
        lead_imported_as(
            Stage.WON, days_ago=3 * 365, source_form=form, attributes={"company_size": "100"}
        )
    for _ in range(30):
        lead_imported_as(
            Stage.REJECTED,
            reason_code="no_budget",
            days_ago=3 * 365,
            source_form=form,
            attributes={"company_size": "10"},
        )
    assert effectiveness(agreement=agreement).decided == 0  # not in the last 90 days
    result = effectiveness(agreement=agreement, days=None)
    assert (result.decided, result.imported) == (70, 70)
    (size,) = result.criteria
    assert (size.passed.decided, size.passed.accepted, size.passed.won) == (40, 40, 40)
    assert (size.passed.imported, size.passed.by_reps) == (40, 0)
    assert (size.failed.decided, size.failed.rejected, size.failed.imported) == (30, 30, 30)
    four_years_ago = (timezone.localdate() - timedelta(days=4 * 365)).isoformat()
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("scoring:agreement"), {"start": four_years_ago}).content.decode()
    assert "70 leads decided since " in page
    assert "(70 imported outcomes, the rest reps' decisions)" in page
    assert "40 (40 imported) · 100 % · 100 %" in page
