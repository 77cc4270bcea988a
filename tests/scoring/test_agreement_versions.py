"""A signed agreement never changes; a change is a new draft version made from it."""

import pytest

from portal.accounts.roles import Role
from portal.errors import DomainError, PermissionDenied
from scoring.models import Agreement, Criterion, ProposedAgreementChange
from scoring.services import agreement_draft_from, agreement_propose, agreement_sign
from tests.factories import CriterionFactory, UserFactory

pytestmark = pytest.mark.django_db

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


def draft_with_criteria(version=1, **terms) -> Agreement:
    agreement = Agreement.objects.create(version=version, threshold=10, **terms)
    CriterionFactory(agreement=agreement, position=0)
    CriterionFactory(
        agreement=agreement,
        label="Job title given",
        kind=Criterion.Kind.SCORING,
        attribute="job_title",
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=10,
        position=1,
    )
    return agreement


def signed_by_sales(agreement: Agreement) -> Agreement:
    agreement_propose(agreement=agreement, by=UserFactory(role=Role.MARKETING_MANAGER))
    return agreement_sign(agreement=agreement, by=UserFactory(role=Role.SALES_MANAGER), side=SALES)


def active(agreement: Agreement) -> Agreement:
    signed_by_sales(agreement)
    return agreement_sign(
        agreement=agreement, by=UserFactory(role=Role.MARKETING_MANAGER), side=MARKETING
    )


@pytest.fixture
def drafter():
    return UserFactory(role=Role.ADMIN)


# The guard on the models


def test_a_draft_can_be_edited_criteria_and_all():
    agreement = draft_with_criteria()
    agreement.threshold = 20
    agreement.save()
    criterion = agreement.criteria.first()
    criterion.value = 100
    criterion.save()
    CriterionFactory(agreement=agreement, label="Another")
    agreement.criteria.last().delete()
    agreement.refresh_from_db()
    assert agreement.threshold == 20
    assert agreement.criteria.first().value == 100


@pytest.mark.parametrize("signed", [signed_by_sales, active], ids=["proposed", "active"])
def test_a_signed_agreement_cannot_change_its_terms(signed):
    agreement = signed(draft_with_criteria())
    agreement.threshold = 99
    with pytest.raises(ProposedAgreementChange) as caught:
        agreement.save()
    assert caught.value.code == "agreement_proposed"
    assert "new draft" in caught.value.message
    with pytest.raises(ProposedAgreementChange):
        agreement.save(update_fields=["threshold"])
    agreement.refresh_from_db()
    assert agreement.threshold == 10


@pytest.mark.parametrize("signed", [signed_by_sales, active], ids=["proposed", "active"])
def test_a_signed_agreements_criteria_cannot_change_be_added_or_deleted(signed):
    agreement = signed(draft_with_criteria())
    criterion = agreement.criteria.last()
    criterion.points = 5000
    with pytest.raises(ProposedAgreementChange):
        criterion.save()
    with pytest.raises(ProposedAgreementChange):
        criterion.delete()
    with pytest.raises(ProposedAgreementChange):
        CriterionFactory(agreement=agreement, label="Slipped in")
    assert list(agreement.criteria.values_list("points", flat=True)) == [0, 10]


def test_a_criterion_cannot_move_out_of_or_into_a_signed_agreement():
    signed = signed_by_sales(draft_with_criteria(version=1))
    draft = draft_with_criteria(version=2)
    leaving = signed.criteria.first()
    leaving.agreement = draft
    with pytest.raises(ProposedAgreementChange):
        leaving.save()
    arriving = draft.criteria.first()
    arriving.agreement = signed
    with pytest.raises(ProposedAgreementChange):
        arriving.save()
    assert signed.criteria.count() == draft.criteria.count() == 2


def test_a_signed_agreement_cannot_be_deleted():
    agreement = signed_by_sales(draft_with_criteria())
    with pytest.raises(ProposedAgreementChange):
        agreement.delete()
    with pytest.raises(ProposedAgreementChange):
        Agreement.objects.filter(pk=agreement.pk).delete()
    assert Criterion.objects.filter(agreement=agreement).count() == 2


def test_bulk_writes_cannot_change_a_signed_agreement_either():
    agreement = signed_by_sales(draft_with_criteria())
    with pytest.raises(ProposedAgreementChange):
        Agreement.objects.filter(pk=agreement.pk).update(threshold=0)
    with pytest.raises(ProposedAgreementChange):
        Criterion.objects.filter(agreement=agreement).update(points=5000)
    with pytest.raises(ProposedAgreementChange):
        Criterion.objects.filter(agreement=agreement).delete()
    with pytest.raises(ProposedAgreementChange):
        Criterion.objects.bulk_create([Criterion(agreement=agreement, label="x", kind="scoring")])
    criteria = list(agreement.criteria.all())
    criteria[0].points = 5000
    with pytest.raises(ProposedAgreementChange):
        Criterion.objects.bulk_update(criteria, ["points"])
    assert list(agreement.criteria.values_list("points", flat=True)) == [0, 10]


def test_bulk_writes_on_drafts_still_work():
    draft = draft_with_criteria()
    assert Criterion.objects.filter(agreement=draft).update(points=1) == 2
    assert Agreement.objects.filter(pk=draft.pk).update(threshold=3) == 1
    assert Criterion.objects.filter(agreement=draft).delete()[0] == 2


def test_signing_still_completes_a_proposed_agreement_but_never_rewrites_a_signature():
    agreement = active(draft_with_criteria())
    assert Agreement.objects.active() == agreement
    agreement.sales_signed_by = UserFactory(role=Role.SALES_MANAGER)
    with pytest.raises(ProposedAgreementChange):
        agreement.save(update_fields=["sales_signed_by"])


def test_the_refusal_is_a_domain_error_a_page_can_show():
    agreement = signed_by_sales(draft_with_criteria())
    with pytest.raises(DomainError) as caught:
        agreement.delete()
    assert caught.value.status == 409
    assert "Agreement v1" in caught.value.message


# agreement_draft_from


def test_a_new_draft_copies_the_terms_and_criteria_into_the_next_version(drafter):
    source = active(
        draft_with_criteria(
            version=1, summary="Work e-mail", accept_within_minutes=60, contact_within_hours=3
        )
    )
    Agreement.objects.create(version=3)

    draft = agreement_draft_from(agreement=source, by=drafter)

    assert draft.version == 4
    assert (draft.summary, draft.threshold) == ("Work e-mail", 10)
    assert (draft.accept_within_minutes, draft.contact_within_hours) == (60, 3)
    assert draft.created_by == drafter
    assert (draft.sales_signed_by, draft.sales_signed_at) == (None, None)
    assert (draft.marketing_signed_by, draft.marketing_signed_at) == (None, None)
    assert draft.activated_at is None

    def terms(agreement):
        return list(
            agreement.criteria.values_list(
                "label", "kind", "attribute", "operator", "value", "points", "position"
            )
        )

    assert terms(draft) == terms(source)
    assert not set(draft.criteria.values_list("pk", flat=True)) & set(
        source.criteria.values_list("pk", flat=True)
    )
    assert Agreement.objects.active() == source


def test_the_new_draft_is_editable_and_the_signed_source_is_untouched(drafter):
    source = active(draft_with_criteria())
    draft = agreement_draft_from(agreement=source, by=drafter)
    draft.threshold = 99
    draft.save()
    criterion = draft.criteria.last()
    criterion.points = 5000
    criterion.save()
    source.refresh_from_db()
    assert source.threshold == 10
    assert list(source.criteria.values_list("points", flat=True)) == [0, 10]


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SALES_REP])
def test_only_those_who_may_draft_agreements_draft_one(role):
    source = draft_with_criteria()
    with pytest.raises(PermissionDenied):
        agreement_draft_from(agreement=source, by=UserFactory(role=role))
    assert Agreement.objects.count() == 1
