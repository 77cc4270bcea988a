"""Signing an agreement: two different people, each for the side they may sign."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError
from django.utils import timezone

from portal.accounts.roles import Role
from portal.errors import DomainError
from scoring.models import Agreement
from scoring.services import SigningError, agreement_sign
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


@pytest.fixture
def draft():
    """A proposal: what is signed (a draft itself is refused, see test_agreement_lifecycle)."""
    return Agreement.objects.create(version=7, proposed_at=timezone.now())


def both_sides_manager():
    user = UserFactory(role=Role.SALES_MANAGER)
    user.groups.add(Group.objects.get(name=Role.MARKETING_MANAGER))
    return user


def refused(agreement, by, side) -> SigningError:
    with pytest.raises(SigningError) as caught:
        agreement_sign(agreement=agreement, by=by, side=side)
    return caught.value


def test_agreement_becomes_active_only_when_both_sides_signed(draft, sales, marketing):
    agreement_sign(agreement=draft, by=sales, side=SALES)
    assert Agreement.objects.active() is None
    signed = agreement_sign(agreement=draft, by=marketing, side=MARKETING)
    assert signed.activated_at is not None
    assert Agreement.objects.active() == signed
    assert (signed.sales_signed_by, signed.marketing_signed_by) == (sales, marketing)


def test_marketing_may_sign_first(draft, sales, marketing):
    agreement_sign(agreement=draft, by=marketing, side=MARKETING)
    assert Agreement.objects.active() is None
    signed = agreement_sign(agreement=draft, by=sales, side=SALES)
    assert Agreement.objects.active() == signed


@pytest.mark.parametrize("side", [SALES, MARKETING])
def test_a_superuser_without_a_managers_role_cannot_sign(draft, side):
    admin = UserFactory(is_superuser=True, is_staff=True)
    error = refused(draft, admin, side)
    assert (error.code, error.status) == ("not_allowed_to_sign", HTTPStatus.FORBIDDEN)
    assert "an administrator's rights are not a signature" in error.message
    draft.refresh_from_db()
    assert (draft.sales_signed_at, draft.marketing_signed_at) == (None, None)


def test_a_superuser_with_a_managers_role_signs_for_that_side_only(draft):
    admin = UserFactory(is_superuser=True, role=Role.MARKETING_MANAGER)
    assert agreement_sign(agreement=draft, by=admin, side=MARKETING).marketing_signed_by == admin
    assert refused(draft, admin, SALES).code == "not_allowed_to_sign"


def test_an_inactive_manager_cannot_sign(draft, sales):
    sales.is_active = False
    sales.save(update_fields=["is_active"])
    assert refused(draft, sales, SALES).code == "not_allowed_to_sign"


@pytest.mark.parametrize("first, second", [(SALES, MARKETING), (MARKETING, SALES)])
def test_a_superuser_of_both_roles_cannot_sign_for_both_sides(draft, first, second):
    admin = both_sides_manager()
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    agreement_sign(agreement=draft, by=admin, side=first)
    error = refused(draft, admin, second)
    assert error.code == "same_signer"
    draft.refresh_from_db()
    assert draft.activated_at is None
    assert Agreement.objects.active() is None


def test_a_manager_of_both_teams_cannot_sign_for_both_sides(draft):
    manager = both_sides_manager()
    agreement_sign(agreement=draft, by=manager, side=SALES)
    assert refused(draft, manager, MARKETING).code == "same_signer"
    draft.refresh_from_db()
    assert (draft.marketing_signed_by, draft.marketing_signed_at) == (None, None)


def test_someone_who_may_sign_both_signs_the_side_they_name(draft):
    signed = agreement_sign(agreement=draft, by=both_sides_manager(), side=MARKETING)
    assert signed.marketing_signed_at is not None
    assert (signed.sales_signed_by, signed.sales_signed_at) == (None, None)


def test_a_rep_cannot_sign_an_agreement(draft):
    rep = UserFactory(role=Role.SALES_REP)
    for side in (SALES, MARKETING):
        error = refused(draft, rep, side)
        assert (error.code, error.status) == ("not_allowed_to_sign", HTTPStatus.FORBIDDEN)


def test_a_sales_manager_cannot_sign_for_marketing(draft, sales):
    assert refused(draft, sales, MARKETING).code == "not_allowed_to_sign"
    draft.refresh_from_db()
    assert draft.marketing_signed_at is None


def test_a_side_is_signed_once(draft, sales):
    agreement_sign(agreement=draft, by=sales, side=SALES)
    other = UserFactory(role=Role.SALES_MANAGER)
    error = refused(draft, other, SALES)
    assert (error.code, error.status) == ("already_signed", HTTPStatus.CONFLICT)
    draft.refresh_from_db()
    assert draft.sales_signed_by == sales


def test_an_unknown_side_is_refused(draft, sales):
    assert refused(draft, sales, "finance").code == "unknown_side"


def test_signing_errors_are_domain_errors_for_people_and_programs(draft):
    error = refused(draft, UserFactory(role=Role.SALES_REP), SALES)
    assert isinstance(error, DomainError)
    assert error.as_json()["code"] == "not_allowed_to_sign"
    assert "Agreement v7" in error.message


def test_the_database_refuses_one_person_on_both_sides(sales):
    with pytest.raises(IntegrityError):
        Agreement.objects.create(version=9, sales_signed_by=sales, marketing_signed_by=sales)
