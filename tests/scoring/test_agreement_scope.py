"""Scope: every form is judged by exactly one active agreement version.

A version lists the forms it judges, or lists none and takes every form no other active
version lists. Activating a version retires the one before it in its own scope only, and
only the one it was drafted on (an older proposal never retires a newer version).
"""

import pytest
from django.urls import reverse

from leads.capture.services import Provenance, lead_capture
from portal.accounts.roles import Role
from portal.errors import DomainError
from scoring.models import Agreement, AgreementScope
from scoring.selectors import (
    agreement_judging,
    agreement_overlaps,
    agreements_active,
    agreements_by_form,
    forms_without_agreement,
)
from scoring.services import (
    ScopeOverlap,
    StaleBase,
    agreement_draft_from,
    agreement_draft_new,
    agreement_forms_set,
    agreement_propose,
    agreement_rebase,
    agreement_send_back,
    agreement_sign,
    criterion_set,
)
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


@pytest.fixture
def webinar():
    return FormFactory(name="Webinar")


@pytest.fixture
def demo():
    return FormFactory(name="Demo request")


def with_a_criterion(agreement: Agreement, by) -> Agreement:
    criterion_set(
        agreement=agreement,
        by=by,
        label="Company size",
        kind="mandatory",
        attribute="company_size",
        operator="at_least",
        value=50,
        points=0,
    )
    return agreement


def signed(agreement: Agreement, marketing, sales) -> Agreement:
    agreement_sign(agreement=agreement, by=marketing, side=MARKETING)
    return agreement_sign(agreement=agreement, by=sales, side=SALES)


def activated(agreement: Agreement, marketing, sales) -> Agreement:
    agreement_propose(agreement=agreement, by=marketing)
    return signed(agreement, marketing, sales)


def new_scope(name: str, forms, marketing, sales, *, activate=True) -> Agreement:
    draft = with_a_criterion(agreement_draft_new(by=marketing, scope_name=name), marketing)
    agreement_forms_set(agreement=draft, by=marketing, form_ids=[form.pk for form in forms])
    return activated(draft, marketing, sales) if activate else draft


@pytest.fixture
def main(marketing, sales, webinar, demo) -> Agreement:
    """v1, the main agreement: every form no other version lists."""
    return activated(
        with_a_criterion(agreement_draft_new(by=marketing), marketing), marketing, sales
    )


def test_a_version_that_lists_forms_judges_them_and_the_main_one_the_rest(
    main, webinar, demo, marketing, sales
):
    product_b = new_scope("Product B", [demo], marketing, sales)

    assert agreements_by_form() == {webinar.pk: main, demo.pk: product_b}
    assert agreement_judging(form_id=demo.pk) == product_b
    assert agreement_judging(form_id=webinar.pk) == main
    main.refresh_from_db()
    assert main.status == "active"  # another scope's activation retires nothing here
    assert forms_without_agreement() == []


def test_the_bulk_answer_takes_a_fixed_number_of_queries(
    main, webinar, demo, marketing, sales, django_assert_num_queries
):
    new_scope("Product B", [demo], marketing, sales)
    more = [FormFactory(name=f"Form {n}").pk for n in range(10)]
    with django_assert_num_queries(1):
        judged = agreements_by_form(form_ids=[webinar.pk, demo.pk, *more])
    assert len(judged) == 12


def test_a_form_no_active_version_covers_is_named_and_its_leads_stay_unqualified(
    webinar, demo, marketing, sales, client, django_capture_on_commit_callbacks
):
    new_scope("Product B", [demo], marketing, sales)

    assert forms_without_agreement() == [webinar]
    with django_capture_on_commit_callbacks(execute=True):
        submission = lead_capture(
            form=webinar,
            payload={"email": "ana@acme.example", "company_size": "80"},
            cleaned={"email": "ana@acme.example", "company_size": 80},
            provenance=Provenance(),
        )
    lead = submission.lead
    assert not lead.qualifications.exists()

    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "no active agreement judges the form “Webinar”" in page
    editor = client.get(reverse("scoring:agreement")).content.decode()
    assert "No active agreement judges Webinar" in editor


def test_a_submission_is_judged_by_the_version_of_its_form(
    main, demo, marketing, sales, django_capture_on_commit_callbacks
):
    product_b = new_scope("Product B", [demo], marketing, sales)
    with django_capture_on_commit_callbacks(execute=True):
        submission = lead_capture(
            form=demo,
            payload={"email": "bo@acme.example", "company_size": "80"},
            cleaned={"email": "bo@acme.example", "company_size": 80},
            provenance=Provenance(),
        )
    assert submission.lead.qualifications.get().agreement == product_b


def test_proposing_a_version_that_takes_another_scopes_form_is_refused_naming_it(
    main, demo, marketing, sales
):
    new_scope("Product B", [demo], marketing, sales)
    product_c = new_scope("Product C", [demo], marketing, sales, activate=False)

    with pytest.raises(ScopeOverlap, match="Demo request already judged by Agreement v2"):
        agreement_propose(agreement=product_c, by=marketing)
    product_c.refresh_from_db()
    assert product_c.status == "draft"


def test_two_versions_that_take_every_other_form_cannot_both_be_active(main, marketing):
    other = with_a_criterion(agreement_draft_new(by=marketing, scope_name="Team B"), marketing)

    assert [o.other for o in agreement_overlaps(agreement=other)] == [main]
    with pytest.raises(ScopeOverlap, match="only one agreement can take the rest"):
        agreement_propose(agreement=other, by=marketing)


def test_an_overlap_that_appears_after_proposing_is_refused_when_it_would_become_active(
    main, demo, marketing, sales
):
    first = new_scope("Product B", [demo], marketing, sales, activate=False)
    second = new_scope("Product C", [demo], marketing, sales, activate=False)
    agreement_propose(agreement=first, by=marketing)
    agreement_propose(agreement=second, by=marketing)  # nothing active lists Demo yet
    signed(first, marketing, sales)
    agreement_sign(agreement=second, by=marketing, side=MARKETING)

    with pytest.raises(ScopeOverlap, match="Demo request already judged by Agreement v2"):
        agreement_sign(agreement=second, by=sales, side=SALES)

    second.refresh_from_db()
    assert (second.status, second.sales_signed_at) == ("proposed", None)
    assert agreement_judging(form_id=demo.pk) == first


def test_activating_retires_the_version_before_it_in_its_own_scope_only(
    main, webinar, demo, marketing, sales
):
    product_b = new_scope("Product B", [demo], marketing, sales)
    next_b = agreement_draft_from(agreement=product_b, by=marketing)
    assert (next_b.scope, next_b.form_ids, next_b.based_on) == (
        product_b.scope,
        [demo.pk],
        product_b,
    )

    activated(next_b, marketing, sales)

    main.refresh_from_db()
    product_b.refresh_from_db()
    assert (main.status, product_b.status) == ("active", "retired")
    assert agreements_by_form() == {webinar.pk: main, demo.pk: next_b}


def test_an_older_proposal_signed_later_never_retires_a_newer_active_version(
    main, marketing, sales
):
    older = agreement_draft_from(agreement=main, by=marketing)  # v2, drafted on v1
    newer = agreement_draft_from(agreement=main, by=marketing)  # v3, drafted on v1
    agreement_propose(agreement=older, by=marketing)
    activated(newer, marketing, sales)  # v3 replaces v1
    agreement_sign(agreement=older, by=marketing, side=MARKETING)

    with pytest.raises(StaleBase, match=r"drafted when v1 was active.*Agreement v3 is active"):
        agreement_sign(agreement=older, by=sales, side=SALES)

    newer.refresh_from_db()
    older.refresh_from_db()
    assert newer.status == "active"
    assert (older.status, older.sales_signed_at) == ("proposed", None)


def test_a_stale_draft_is_re_based_after_going_back_and_then_replaces_the_newer_one(
    main, marketing, sales
):
    older = agreement_draft_from(agreement=main, by=marketing)
    newer = agreement_draft_from(agreement=main, by=marketing)
    agreement_propose(agreement=older, by=marketing)
    activated(newer, marketing, sales)

    agreement_send_back(agreement=older, by=sales, comment="v3 is active now: re-read it.")
    with pytest.raises(StaleBase):
        agreement_propose(agreement=older, by=marketing)
    agreement_rebase(agreement=older, by=marketing)
    activated(older, marketing, sales)

    newer.refresh_from_db()
    older.refresh_from_db()
    assert (older.based_on, older.status, newer.status) == (newer, "active", "retired")


def test_a_proposal_cannot_be_re_based_it_goes_back_to_draft_first(main, marketing, sales):
    proposal = agreement_draft_from(agreement=main, by=marketing)
    agreement_propose(agreement=proposal, by=marketing)
    with pytest.raises(DomainError):
        agreement_rebase(agreement=proposal, by=marketing)


def test_a_new_scope_needs_a_name_not_yet_taken(main, marketing):
    agreement_draft_new(by=marketing, scope_name="Product B")
    with pytest.raises(DomainError, match="already an agreement called") as refused:
        agreement_draft_new(by=marketing, scope_name="product b")
    assert refused.value.field == "scope_name"
    assert AgreementScope.objects.count() == 2


def test_only_known_forms_can_be_listed(main, marketing):
    draft = agreement_draft_from(agreement=main, by=marketing)
    with pytest.raises(DomainError, match="No such form: 999999") as refused:
        agreement_forms_set(agreement=draft, by=marketing, form_ids=[999999])
    assert refused.value.field == "form_ids"


def test_the_forms_of_a_proposal_are_frozen(main, demo, marketing):
    proposal = agreement_draft_from(agreement=main, by=marketing)
    agreement_propose(agreement=proposal, by=marketing)
    with pytest.raises(DomainError):
        agreement_forms_set(agreement=proposal, by=marketing, form_ids=[demo.pk])
    proposal.form_ids = [demo.pk]
    with pytest.raises(DomainError):
        proposal.save(update_fields=["form_ids"])


def test_every_active_version_is_listed_main_first(main, demo, marketing, sales):
    product_b = new_scope("Product B", [demo], marketing, sales)
    assert agreements_active() == [main, product_b]


def test_the_agreement_page_shows_every_active_version_with_its_scope(
    client, main, demo, marketing, sales
):
    product_b = new_scope("Product B", [demo], marketing, sales)
    client.force_login(UserFactory(role=Role.SALES_REP))
    page = client.get(reverse("scoring:agreement")).content.decode()
    for agreement, scope, forms in [
        (main, "Main agreement", "Judges every form no other active version lists."),
        (product_b, "Product B", "Judges Demo request."),
    ]:
        card = page.split(f'id="active-v{agreement.version}"')[1].split("</section>")[0]
        assert f'data-scope="{scope}"' in page
        assert f"· {scope}</span>" in card
        assert forms in card
        assert "the company size is at least 50" in card
    # Ids stay unique with two versions on one page.
    assert page.count('id="signatures-v1"') == page.count('id="signatures-v2"') == 1
