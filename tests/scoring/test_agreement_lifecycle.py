"""draft → proposed (frozen) → signed by both managers → active; a proposal may go back."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group

from portal.accounts.roles import Role
from portal.errors import Conflict, DomainError, InvalidFields, PermissionDenied
from scoring.models import Agreement, AgreementComment, Criterion, ProposedAgreementChange
from scoring.services import (
    SigningError,
    agreement_draft_from,
    agreement_draft_new,
    agreement_propose,
    agreement_send_back,
    agreement_sign,
    agreement_terms_set,
    criterion_move,
    criterion_remove,
    criterion_set,
)
from tests.factories import CriterionFactory, FormFactory, UserFactory

pytestmark = pytest.mark.django_db

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


@pytest.fixture
def form():
    return FormFactory()  # its fields are the attribute keys criteria may use


def draft(version=1, threshold=10) -> Agreement:
    agreement = Agreement.objects.create(version=version, threshold=threshold)
    CriterionFactory(agreement=agreement)
    return agreement


def activated(agreement, marketing, sales) -> Agreement:
    agreement_propose(agreement=agreement, by=marketing)
    agreement_sign(agreement=agreement, by=marketing, side=MARKETING)
    return agreement_sign(agreement=agreement, by=sales, side=SALES)


TERMS = {
    "label": "Mid-size",
    "kind": Criterion.Kind.SCORING,
    "attribute": "company_size",
    "operator": Criterion.Operator.AT_LEAST,
    "value": 50,
    "points": 20,
}


def test_a_draft_is_not_signed_before_it_is_proposed(marketing):
    agreement = draft()
    with pytest.raises(SigningError) as caught:
        agreement_sign(agreement=agreement, by=marketing, side=MARKETING)
    assert (caught.value.code, caught.value.status) == ("not_proposed", HTTPStatus.CONFLICT)
    agreement.refresh_from_db()
    assert agreement.marketing_signed_at is None


def test_proposing_freezes_the_version_and_records_who(marketing):
    agreement = agreement_propose(agreement=draft(), by=marketing)
    assert (agreement.status, agreement.proposed_by) == ("proposed", marketing)
    agreement.threshold = 99
    with pytest.raises(ProposedAgreementChange):
        agreement.save()
    with pytest.raises(ProposedAgreementChange):
        agreement_terms_set(
            agreement=agreement,
            by=marketing,
            summary="",
            threshold=99,
            accept_within_minutes=1,
            contact_within_hours=1,
        )
    agreement.refresh_from_db()
    assert agreement.threshold == 10


def test_a_version_is_proposed_once(marketing, sales):
    agreement = agreement_propose(agreement=draft(), by=marketing)
    with pytest.raises(Conflict) as caught:
        agreement_propose(agreement=agreement, by=sales)
    assert (caught.value.code, caught.value.status) == ("already_proposed", 409)
    agreement.refresh_from_db()
    assert agreement.proposed_by == marketing


def test_an_empty_draft_cannot_be_proposed(marketing):
    agreement = agreement_draft_new(by=marketing)
    with pytest.raises(DomainError) as caught:
        agreement_propose(agreement=agreement, by=marketing)
    assert caught.value.code == "no_criteria"


@pytest.mark.parametrize("first", [MARKETING, SALES])
def test_both_managers_sign_in_either_order_and_the_previous_version_retires(
    first, marketing, sales
):
    old = activated(draft(version=1), marketing, sales)
    new = agreement_draft_from(agreement=old, by=sales)
    agreement_propose(agreement=new, by=sales)
    signers = {MARKETING: marketing, SALES: sales}
    second = SALES if first == MARKETING else MARKETING

    agreement_sign(agreement=new, by=signers[first], side=first)
    assert Agreement.objects.active() == old
    agreement_sign(agreement=new, by=signers[second], side=second)

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == ("retired", "active")
    assert old.retired_at == new.activated_at
    assert Agreement.objects.active() == new
    assert Agreement.objects.filter(activated_at__isnull=False, retired_at=None).count() == 1


def test_sending_back_a_half_signed_proposal_clears_its_signature_and_keeps_the_comment(
    marketing, sales
):
    agreement = agreement_propose(agreement=draft(), by=marketing)
    agreement_sign(agreement=agreement, by=marketing, side=MARKETING)

    agreement_send_back(agreement=agreement, by=sales, comment="Threshold 10 is too low.")

    agreement.refresh_from_db()
    assert agreement.status == "draft"
    assert (agreement.proposed_at, agreement.proposed_by) == (None, None)
    assert (agreement.marketing_signed_at, agreement.marketing_signed_by) == (None, None)
    comment = AgreementComment.objects.get(agreement=agreement)
    assert (comment.author, comment.text, comment.sent_back) == (
        sales,
        "Threshold 10 is too low.",
        True,
    )
    # A draft again: it can change, and the next proposal needs both signatures anew.
    agreement_terms_set(
        agreement=agreement,
        by=marketing,
        summary="",
        threshold=30,
        accept_within_minutes=60,
        contact_within_hours=10,
    )
    agreement_propose(agreement=agreement, by=marketing)
    agreement_sign(agreement=agreement, by=sales, side=SALES)
    assert Agreement.objects.active() is None


def test_sending_back_needs_a_comment(marketing, sales):
    agreement = agreement_propose(agreement=draft(), by=marketing)
    with pytest.raises(DomainError) as caught:
        agreement_send_back(agreement=agreement, by=sales, comment="  ")
    assert caught.value.field == "comment"
    agreement.refresh_from_db()
    assert agreement.status == "proposed"


@pytest.mark.parametrize("status", ["draft", "active"])
def test_only_a_proposal_goes_back(status, marketing, sales):
    agreement = draft()
    if status == "active":
        activated(agreement, marketing, sales)
    with pytest.raises(Conflict) as caught:
        agreement_send_back(agreement=agreement, by=sales, comment="No.")
    assert caught.value.code == "not_proposed"
    agreement.refresh_from_db()
    assert agreement.status == status
    assert not AgreementComment.objects.exists()


def test_an_active_version_cannot_be_unsigned_by_a_save(marketing, sales):
    agreement = activated(draft(), marketing, sales)
    for field in ["proposed_at", "sales_signed_at", "marketing_signed_at", "activated_at"]:
        setattr(agreement, field, None)
    agreement.proposed_by = agreement.sales_signed_by = agreement.marketing_signed_by = None
    with pytest.raises(ProposedAgreementChange):
        agreement.save(
            update_fields=[
                "proposed_at",
                "proposed_by",
                "sales_signed_at",
                "sales_signed_by",
                "marketing_signed_at",
                "marketing_signed_by",
                "activated_at",
            ]
        )


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SALES_REP])
def test_a_marketer_or_a_rep_cannot_draft_propose_or_send_back(role, marketing):
    user = UserFactory(role=role)
    agreement = draft()
    for attempt in [
        lambda: agreement_draft_new(by=user),
        lambda: agreement_propose(agreement=agreement, by=user),
        lambda: criterion_set(agreement=agreement, by=user, **TERMS),
    ]:
        with pytest.raises(PermissionDenied):
            attempt()
    agreement_propose(agreement=agreement, by=marketing)
    with pytest.raises(PermissionDenied):
        agreement_send_back(agreement=agreement, by=user, comment="No.")
    for side in (SALES, MARKETING):
        with pytest.raises(SigningError) as caught:
            agreement_sign(agreement=agreement, by=user, side=side)
        assert caught.value.status == HTTPStatus.FORBIDDEN


def test_one_manager_cannot_sign_both_sides_of_a_proposal(marketing):
    agreement = agreement_propose(agreement=draft(), by=marketing)
    admin = UserFactory(is_superuser=True, role=Role.SALES_MANAGER)
    admin.groups.add(Group.objects.get(name=Role.MARKETING_MANAGER))
    agreement_sign(agreement=agreement, by=admin, side=SALES)
    with pytest.raises(SigningError) as caught:
        agreement_sign(agreement=agreement, by=admin, side=MARKETING)
    assert (caught.value.code, caught.value.status) == ("same_signer", HTTPStatus.FORBIDDEN)


# The editor's services


def test_criteria_are_added_last_moved_and_removed(marketing, form):
    agreement = draft()
    first = agreement.criteria.get()
    added = criterion_set(agreement=agreement, by=marketing, **TERMS)
    assert added.position == first.position + 1

    criterion_move(criterion=added, by=marketing, offset=-1)
    assert list(agreement.criteria.values_list("label", flat=True)) == ["Mid-size", "Company size"]
    criterion_move(criterion=added, by=marketing, offset=-1)  # already first: stays
    assert agreement.criteria.first() == added

    criterion_remove(criterion=added, by=marketing)
    assert list(agreement.criteria.values_list("label", "position")) == [("Company size", 0)]


def test_a_criterion_is_changed_in_place(marketing, form):
    agreement = draft()
    criterion = agreement.criteria.get()
    criterion_set(agreement=agreement, by=marketing, criterion=criterion, **{**TERMS, "value": 75})
    criterion.refresh_from_db()
    assert (criterion.label, criterion.value, criterion.points) == ("Mid-size", 75, 20)


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"operator": "rhymes_with"}, "operator", "unknown_operator"),
        ({"operator": "at_least", "value": "fifty"}, "value", "wrong_value_type"),
        ({"operator": "at_least", "value": True}, "value", "wrong_value_type"),
        ({"operator": "one_of", "value": "Brazil"}, "value", "wrong_value_type"),
        ({"operator": "one_of", "value": []}, "value", "wrong_value_type"),
        ({"operator": "present", "value": 3}, "value", "wrong_value_type"),
        ({"operator": "between", "value": [500, 10]}, "value", "wrong_value_type"),
        ({"operator": "matches", "value": "(a+)+$"}, "value", "wrong_value_type"),
        ({"operator": "matches", "value": "(["}, "value", "wrong_value_type"),
        ({"operator": "submitted_within", "value": 0}, "value", "wrong_value_type"),
        ({"operator": "country_in", "value": ["Brazil", "Narnia"]}, "value", "wrong_value_type"),
        (
            {"operator": "present", "value": None, "blank_passes": True},
            "blank_passes",
            "blank_judged",
        ),
        ({"attribute": "shoe_size"}, "attribute", "unknown_attribute"),
        ({"kind": "mandatory", "points": 5}, "points", "mandatory_points"),
    ],
)
def test_a_criterion_that_cannot_be_judged_is_refused_naming_the_field(
    change, field, code, marketing, form
):
    agreement = draft()
    with pytest.raises(InvalidFields) as caught:
        criterion_set(agreement=agreement, by=marketing, **{**TERMS, **change})
    assert [problem["code"] for problem in caught.value.errors[field]] == [code]
    assert agreement.criteria.count() == 1


def test_a_criterion_says_whether_a_blank_passes(marketing, form):
    agreement = draft()
    terms = {**TERMS, "operator": "not_equals", "value": "Yes", "blank_passes": True}
    added = criterion_set(agreement=agreement, by=marketing, **terms)
    added.refresh_from_db()
    assert added.blank_passes
    assert added.as_rule().blank_passes


def test_submitted_within_judges_the_submission_and_needs_no_form_field(marketing, form):
    terms = {**TERMS, "attribute": "submitted_at", "operator": "submitted_within", "value": 30}
    added = criterion_set(agreement=draft(), by=marketing, **terms)
    assert (added.operator, added.value) == ("submitted_within", 30)


def test_an_unknown_attribute_is_refused_with_the_keys_the_forms_have(marketing, form):
    with pytest.raises(InvalidFields) as caught:
        criterion_set(agreement=draft(), by=marketing, **{**TERMS, "attribute": "shoe_size"})
    message = caught.value.errors["attribute"][0]["message"]
    assert "“shoe_size”" in message
    assert "company_size" in message


@pytest.mark.parametrize(
    "written", [["Brazil", "United States of America"], ["brasil", "United States", "USA"]]
)
def test_country_in_takes_names_codes_and_spellings_and_keeps_iso_codes(marketing, form, written):
    terms = {
        **TERMS,
        "kind": "mandatory",
        "points": 0,
        "attribute": "country",
        "operator": "country_in",
        "value": written,
    }
    added = criterion_set(agreement=draft(), by=marketing, **terms)
    assert added.value == ["BR", "US"]
