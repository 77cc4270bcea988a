import pytest
from django.urls import reverse

from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "name",
    ["capture_form_add", "routing_queue_add", "scoring_agreement_add", "leads_lead_changelist"],
)
def test_admin_pages_open(admin_client, name):
    assert admin_client.get(reverse(f"admin:{name}")).status_code == 200


def test_a_lead_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    lead = LeadFactory()
    change = admin_client.post(reverse("admin:leads_lead_change", args=[lead.pk]), {"stage": "won"})
    assert change.status_code == 403
    assert admin_client.post(reverse("admin:leads_lead_delete", args=[lead.pk])).status_code == 403
    lead.refresh_from_db()
    assert lead.stage == "captured"
