"""The agreement's and the import's services say who hears of them, in their transaction."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from leads.capture.imports.models import LeadImport
from leads.capture.imports.services import import_fail, import_run
from portal.accounts.roles import Role
from portal.notifications.models import Kind, Notification
from scoring.models import Agreement
from scoring.services import agreement_propose, agreement_sign
from tests.factories import CriterionFactory, FormFactory, UserFactory

pytestmark = pytest.mark.django_db

SALES, MARKETING = Agreement.Side.SALES, Agreement.Side.MARKETING


def told(user) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(recipient=user).order_by("id").values_list("kind", "title")
    )


@pytest.fixture
def managers():
    return {
        "marketing": UserFactory(role=Role.MARKETING_MANAGER),
        "marketing 2": UserFactory(role=Role.MARKETING_MANAGER),
        "sales": UserFactory(role=Role.SALES_MANAGER),
        "sales 2": UserFactory(role=Role.SALES_MANAGER),
        "rep": UserFactory(role=Role.SALES_REP),
    }


@pytest.fixture
def draft():
    agreement = Agreement.objects.create(version=3)
    CriterionFactory(agreement=agreement)
    return agreement


def test_a_proposal_awaits_the_signature_of_the_other_sides_managers(draft, managers):
    agreement_propose(agreement=draft, by=managers["marketing"])
    to_sign = [(Kind.AGREEMENT_TO_SIGN, "Agreement v3 awaits your signature")]
    assert told(managers["sales"]) == told(managers["sales 2"]) == to_sign
    assert told(managers["marketing"]) == told(managers["marketing 2"]) == []
    assert told(managers["rep"]) == []
    notification = Notification.objects.filter(recipient=managers["sales"]).get()
    assert notification.url == draft.get_absolute_url()


def test_a_proposal_by_someone_who_signs_for_neither_side_awaits_both(draft, managers):
    admin = UserFactory(role=Role.ADMIN)
    agreement_propose(agreement=draft, by=admin)
    for who in ("marketing", "marketing 2", "sales", "sales 2"):
        assert [kind for kind, _ in told(managers[who])] == [Kind.AGREEMENT_TO_SIGN]


def test_an_active_agreement_is_news_to_every_manager_but_its_last_signer(draft, managers):
    Agreement.objects.filter(pk=draft.pk).update(proposed_at=timezone.now())
    draft.refresh_from_db()
    agreement_sign(agreement=draft, by=managers["sales"], side=SALES)
    assert Notification.objects.filter(kind=Kind.AGREEMENT_ACTIVE).count() == 0
    agreement_sign(agreement=draft, by=managers["marketing"], side=MARKETING)
    active = [(Kind.AGREEMENT_ACTIVE, "Agreement v3 is active")]
    for who in ("sales", "sales 2", "marketing 2"):
        assert told(managers[who]) == active
    assert told(managers["marketing"]) == []
    assert told(managers["rep"]) == []


def test_a_superuser_without_a_managers_role_is_not_asked_to_sign(draft, managers):
    UserFactory(is_superuser=True, is_staff=True)
    agreement_propose(agreement=draft, by=managers["sales"])
    assert Notification.objects.filter(recipient__is_superuser=True).count() == 0


def test_a_manager_of_both_sides_is_told_once(draft, managers):
    both = UserFactory(role=Role.SALES_MANAGER)
    both.groups.add(Group.objects.get(name=Role.MARKETING_MANAGER))
    agreement_propose(agreement=draft, by=UserFactory(role=Role.ADMIN))
    assert len(told(both)) == 1


@pytest.fixture
def lead_import():
    author = UserFactory(role=Role.MARKETING_MANAGER)
    return LeadImport.objects.create(
        form=FormFactory(),
        source="test",
        file_name="leads.csv",
        content="email\n",
        created_by=author,
        status=LeadImport.Status.QUEUED,
        mapping={"email": "email"},
    )


def test_whoever_started_an_import_hears_when_it_is_done(lead_import):
    import_run(lead_import_id=lead_import.pk, rows=[])
    [(kind, title)] = told(lead_import.created_by)
    assert (kind, title) == (Kind.IMPORT_FINISHED, f"Your import {lead_import} is done")
    import_run(lead_import_id=lead_import.pk, rows=[])  # a second delivery: told once
    assert len(told(lead_import.created_by)) == 1


def test_whoever_started_an_import_hears_when_it_failed_once(lead_import):
    import_fail(lead_import_id=lead_import.pk, why="The file could not be read.")
    import_fail(lead_import_id=lead_import.pk, why="Again.")
    notification = Notification.objects.get(recipient=lead_import.created_by)
    assert notification.title == f"Your import {lead_import} failed"
    assert notification.detail == "The file could not be read."
