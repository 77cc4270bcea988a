"""Exactly one version is active, even when two proposals get their last signature at once."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from portal.accounts.roles import Role
from portal.errors import DomainError
from scoring.models import Agreement
from scoring.services import agreement_propose, agreement_send_back, agreement_sign
from tests.factories import CriterionFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


def proposal(version: int, by) -> Agreement:
    agreement = Agreement.objects.create(version=version)
    CriterionFactory(agreement=agreement)
    return agreement_propose(agreement=agreement, by=by)


def at_once(*calls) -> list:
    start = Barrier(len(calls))

    def run(call):
        try:
            start.wait()
            return call()
        except Exception as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_proposals_completed_at_once_leave_one_active_and_refuse_the_other():
    marketing = UserFactory(role=Role.MARKETING_MANAGER)
    sales = UserFactory(role=Role.SALES_MANAGER)
    for round_ in range(5):
        first, second = proposal(2 * round_ + 1, marketing), proposal(2 * round_ + 2, marketing)
        for agreement in (first, second):
            agreement_sign(agreement=agreement, by=marketing, side=MARKETING)

        outcomes = at_once(
            lambda a=first: agreement_sign(agreement=a, by=sales, side=SALES),
            lambda a=second: agreement_sign(agreement=a, by=sales, side=SALES),
        )

        # Both were drafted on the same active version: the first to complete replaces it;
        # the other would replace a version it never saw, and is refused (re-base it).
        assert sorted(type(o).__name__ for o in outcomes) == ["Agreement", "StaleBase"], outcomes

        live = Agreement.objects.filter(activated_at__isnull=False, retired_at=None)
        assert live.count() == 1, f"round {round_}"
        assert {first.pk, second.pk} >= set(live.values_list("pk", flat=True))


def test_a_signature_and_a_send_back_at_once_never_leave_a_signed_draft():
    marketing = UserFactory(role=Role.MARKETING_MANAGER)
    sales = UserFactory(role=Role.SALES_MANAGER)
    for version in range(1, 6):
        agreement = proposal(version, marketing)

        outcomes = at_once(
            lambda a=agreement: agreement_sign(agreement=a, by=sales, side=SALES),
            lambda a=agreement: agreement_send_back(agreement=a, by=marketing, comment="Wait."),
        )

        agreement.refresh_from_db()
        assert all(isinstance(o, Agreement | DomainError) for o in outcomes), outcomes
        if agreement.status == "draft":
            assert agreement.sales_signed_at is None, f"v{version}"
        else:
            assert (agreement.status, agreement.sales_signed_by) == ("proposed", sales)
