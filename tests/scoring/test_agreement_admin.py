"""The agreement admin: drafts are edited there; signed versions are only shown."""

import pytest
from django.urls import reverse

from portal.accounts.roles import Role
from scoring.models import Agreement
from scoring.services import agreement_propose, agreement_sign
from tests.factories import CriterionFactory, FormFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def form():
    return FormFactory()  # asks for company_size, the attribute the criteria judge


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def agreement_with_a_criterion(version=1) -> Agreement:
    agreement = Agreement.objects.create(
        version=version, threshold=0, created_by=UserFactory(role=Role.ADMIN)
    )
    CriterionFactory(agreement=agreement, kind="scoring", points=50)
    return agreement


def activate(agreement: Agreement) -> Agreement:
    agreement_propose(agreement=agreement, by=UserFactory(role=Role.ADMIN))
    agreement_sign(
        agreement=agreement, by=UserFactory(role=Role.SALES_MANAGER), side=Agreement.Side.SALES
    )
    return agreement_sign(
        agreement=agreement,
        by=UserFactory(role=Role.MARKETING_MANAGER),
        side=Agreement.Side.MARKETING,
    )


def change_form(agreement: Agreement, *, threshold: int, points: int) -> dict:
    """The change form as the admin posts it, with the first criterion edited."""
    criterion = agreement.criteria.get()
    return {
        "version": agreement.version,
        "summary": agreement.summary,
        "threshold": threshold,
        "accept_within_minutes": agreement.accept_within_minutes,
        "contact_within_hours": agreement.contact_within_hours,
        "created_by": agreement.created_by_id,
        "created_at_0": "2026-01-01",
        "created_at_1": "00:00:00",
        "criteria-TOTAL_FORMS": 1,
        "criteria-INITIAL_FORMS": 1,
        "criteria-MIN_NUM_FORMS": 0,
        "criteria-MAX_NUM_FORMS": 1000,
        "criteria-0-id": criterion.pk,
        "criteria-0-agreement": agreement.pk,
        "criteria-0-label": criterion.label,
        "criteria-0-kind": criterion.kind,
        "criteria-0-attribute": criterion.attribute,
        "criteria-0-operator": criterion.operator,
        "criteria-0-value": "50",
        "criteria-0-points": points,
        "criteria-0-position": criterion.position,
    }


def test_an_active_agreement_cannot_be_edited_in_the_admin(admin_client):
    agreement = activate(agreement_with_a_criterion())
    url = reverse("admin:scoring_agreement_change", args=[agreement.pk])

    response = admin_client.post(url, change_form(agreement, threshold=99, points=5000))

    assert response.status_code == 403
    agreement.refresh_from_db()
    assert agreement.threshold == 0
    assert agreement.criteria.get().points == 50
    assert str(agreement) == "Agreement v1"


def test_an_active_agreement_and_its_criteria_are_shown_read_only(admin_client):
    agreement = activate(agreement_with_a_criterion())
    page = admin_client.get(reverse("admin:scoring_agreement_change", args=[agreement.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="threshold"' not in html
    assert 'name="criteria-0-points"' not in html
    assert 'name="_save"' not in html
    assert 'name="criteria-MAX_NUM_FORMS" value="0"' in html  # no criterion can be added
    assert 'name="criteria-0-DELETE"' not in html
    assert agreement.criteria.get().label in html


def test_a_signed_agreement_cannot_be_deleted_in_the_admin(admin_client):
    agreement = activate(agreement_with_a_criterion())
    delete = reverse("admin:scoring_agreement_delete", args=[agreement.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    admin_client.post(
        reverse("admin:scoring_agreement_changelist"),
        {"action": "delete_selected", "_selected_action": [agreement.pk], "post": "yes"},
    )
    assert Agreement.objects.filter(pk=agreement.pk).exists()


def test_a_draft_is_edited_in_the_admin(admin_client):
    draft = agreement_with_a_criterion()
    url = reverse("admin:scoring_agreement_change", args=[draft.pk])

    response = admin_client.post(url, change_form(draft, threshold=30, points=25))

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.threshold == 30
    assert draft.criteria.get().points == 25


def test_the_admin_action_makes_a_new_draft_from_a_signed_version(admin_client):
    agreement = activate(agreement_with_a_criterion())

    response = admin_client.post(
        reverse("admin:scoring_agreement_changelist"),
        {"action": "make_draft", "_selected_action": [agreement.pk]},
        follow=True,
    )

    draft = Agreement.objects.get(version=2)
    assert draft.activated_at is None
    assert draft.criteria.get().points == 50
    assert "Agreement v2 is a new draft made from Agreement v1" in response.content.decode()
    edit = admin_client.post(
        reverse("admin:scoring_agreement_change", args=[draft.pk]),
        change_form(draft, threshold=99, points=5000),
    )
    assert edit.status_code == 302
    assert Agreement.objects.active() == agreement


@pytest.mark.parametrize(
    "change, says",
    [
        ({"criteria-0-value": '"fifty"'}, "“is at least” needs a number"),
        ({"criteria-0-attribute": "shoe_size"}, "No form asks for “shoe_size”"),
    ],
)
def test_the_admin_refuses_a_criterion_the_editor_would_refuse(admin_client, change, says):
    draft = agreement_with_a_criterion()
    url = reverse("admin:scoring_agreement_change", args=[draft.pk])

    response = admin_client.post(url, {**change_form(draft, threshold=30, points=25), **change})

    assert response.status_code == 200
    assert says in response.content.decode().replace("&quot;", '"')
    assert draft.criteria.get().points == 50
