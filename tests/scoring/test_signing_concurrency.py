"""Two signatures at the same moment, against PostgreSQL's row lock on the agreement."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone

from portal.accounts.roles import Role
from scoring.models import Agreement
from scoring.services import SigningError, agreement_sign
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


def sign_at_once(agreement: Agreement, signatures: list[tuple]) -> list[str]:
    """Each (user, side) signs in its own thread, all at once; the outcome code of each."""
    start = Barrier(len(signatures))

    def sign(signature) -> str:
        by, side = signature
        try:
            start.wait()
            agreement_sign(agreement=agreement, by=by, side=side)
            return "signed"
        except SigningError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(signatures)) as pool:
        return list(pool.map(sign, signatures))


def test_one_person_signing_both_sides_at_once_signs_only_one():
    admin = UserFactory(role=Role.SALES_MANAGER)
    admin.groups.add(Group.objects.get(name=Role.MARKETING_MANAGER))
    for version in range(1, 11):
        agreement = Agreement.objects.create(version=version, proposed_at=timezone.now())

        outcomes = sign_at_once(agreement, [(admin, SALES), (admin, MARKETING)])

        assert sorted(outcomes) == ["same_signer", "signed"], f"v{version}"
        agreement.refresh_from_db()
        assert agreement.activated_at is None


def test_two_sales_managers_signing_at_once_sign_once():
    managers = UserFactory.create_batch(2, role=Role.SALES_MANAGER)
    for version in range(1, 11):
        agreement = Agreement.objects.create(version=version, proposed_at=timezone.now())

        outcomes = sign_at_once(agreement, [(manager, SALES) for manager in managers])

        assert sorted(outcomes) == ["already_signed", "signed"], f"v{version}"
        agreement.refresh_from_db()
        assert agreement.sales_signed_by in managers
