"""Two scopes that list the same form, completing their signatures at once: one becomes
active, the other is refused, so the form still has exactly one judge."""

import pytest

from portal.accounts.roles import Role
from scoring.models import Agreement
from scoring.selectors import agreement_judging
from scoring.services import (
    agreement_draft_new,
    agreement_forms_set,
    agreement_propose,
    agreement_sign,
    criterion_set,
)
from tests.factories import FormFactory, UserFactory
from tests.scoring.test_agreement_activation_concurrency import at_once

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


def proposal_for(name: str, form, marketing) -> Agreement:
    draft = agreement_draft_new(by=marketing, scope_name=name)
    criterion_set(
        agreement=draft,
        by=marketing,
        label="Company size",
        kind="mandatory",
        attribute="company_size",
        operator="at_least",
        value=10,
        points=0,
    )
    agreement_forms_set(agreement=draft, by=marketing, form_ids=[form.pk])
    agreement_propose(agreement=draft, by=marketing)
    return agreement_sign(agreement=draft, by=marketing, side=MARKETING)


def test_two_scopes_taking_one_form_at_once_leave_it_one_judge():
    marketing = UserFactory(role=Role.MARKETING_MANAGER)
    sales = UserFactory(role=Role.SALES_MANAGER)
    for round_ in range(4):
        form = FormFactory(name=f"Webinar {round_}")
        first = proposal_for(f"Team A{round_}", form, marketing)
        second = proposal_for(f"Team B{round_}", form, marketing)

        outcomes = at_once(
            lambda a=first: agreement_sign(agreement=a, by=sales, side=SALES),
            lambda a=second: agreement_sign(agreement=a, by=sales, side=SALES),
        )

        kinds = sorted(type(outcome).__name__ for outcome in outcomes)
        assert kinds == ["Agreement", "ScopeOverlap"], outcomes
        live = Agreement.objects.active_versions().filter(pk__in=[first.pk, second.pk])
        assert live.count() == 1, f"round {round_}"
        assert agreement_judging(form_id=form.pk) == live.get()
