"""A lead as the API shows it: LeadSerializer writes its fields out by hand (the list's
speed, docs/performance.md), so every shape of lead, read one by one or listed as rows,
must come out exactly as DRF's own field-by-field representation makes it: the same keys
in the same order, the same values, the same JSON."""

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from leads.models import Lead, Stage
from portal.accounts.roles import Role
from portal.integrations.api.selectors import leads_for_api
from portal.integrations.api.serializers import LEAD_ROW_COLUMNS, LeadSerializer
from portal.integrations.api.services import token_create
from tests.factories import LeadFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 3, 29, 1, 30, 5, 123456, tzinfo=datetime.UTC)


def _leads() -> list[Lead]:
    """A lead of each shape: bare, owned (with and without a name), queued, scored, timed,
    in nurture, without an address, with attributes of every JSON kind."""
    rep = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Souza")
    nameless = UserFactory(role=Role.SALES_REP, first_name="", last_name="")
    return [
        LeadFactory(),
        LeadFactory(
            stage=Stage.ROUTED,
            owner=rep,
            queue=QueueFactory(),
            score=0,
            first_name="Bea",
            last_name="Lima",
            company="Ácme & Co",
            campaign="spring",
            due_at=AT,
            first_action_at=AT.replace(microsecond=0),
        ),
        LeadFactory(stage=Stage.ACCEPTED, owner=nameless, score=-5),
        LeadFactory(
            stage=Stage.RECYCLED,
            nurture_until=datetime.date(2027, 1, 2),
            attributes={"n": 1.5, "ok": True, "list": ["a", None], "nested": {"x": "\u2028"}},
        ),
        LeadFactory(email=None, attributes={}),
    ]


def _drf(lead: Lead) -> dict:
    """DRF's generic representation: each declared field's own to_representation."""
    serializer = LeadSerializer(lead)
    return dict(serializers.Serializer.to_representation(serializer, lead))


def _as_listed(lead: Lead) -> Lead:
    """The lead as the API reads it (only the shown columns, the owner joined)."""
    manager = UserFactory(role=Role.SALES_MANAGER)
    return leads_for_api(user=manager, fields=LeadSerializer.Meta.fields).get(pk=lead.pk)


@pytest.mark.parametrize("zone", ["UTC", "America/Sao_Paulo", "Asia/Kolkata"])
def test_a_lead_shows_as_drfs_own_fields_show_it(zone):
    leads = [_as_listed(lead) for lead in _leads()]
    with timezone.override(zone):
        for lead in leads:
            expected = _drf(lead)
            shown = LeadSerializer(lead).data
            assert list(shown) == list(expected) == LeadSerializer.Meta.fields
            assert json.dumps(shown) == json.dumps(expected), lead.pk


def test_a_lead_in_memory_with_a_stage_member_and_a_naive_time_shows_as_drf_shows_it():
    lead = Lead(
        id=7,
        email="ana@acme.example",
        stage=Stage.WON,
        source_form_id=1,
        created_at=datetime.datetime(2026, 1, 2, 3, 4, 5),  # noqa: DTZ001 - naive on purpose
        updated_at=AT,
        stage_changed_at=AT,
    )
    with timezone.override("Europe/Lisbon"):
        assert json.dumps(LeadSerializer(lead).data) == json.dumps(_drf(lead))


@pytest.mark.parametrize("role", [Role.SALES_MANAGER, Role.SALES_REP])
def test_the_list_and_the_read_answer_each_lead_as_drf_shows_it(role):
    leads = _leads()
    user = UserFactory(role=role)
    if role == Role.SALES_REP:
        Lead.objects.update(owner=user)
    headers = {"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"}
    client = Client()
    listed = client.get(reverse("api:lead-list"), headers=headers).json()["results"]
    expected = [_drf(lead) for lead in Lead.objects.select_related("owner").order_by("-pk")]
    assert json.dumps(listed) == json.dumps(expected)
    for lead in leads:
        read = client.get(reverse("api:lead-detail", args=[lead.pk]), headers=headers).json()
        assert json.dumps(read) == json.dumps(_drf(Lead.objects.get(pk=lead.pk)))


def test_the_list_reads_each_shown_field_as_its_column_a_foreign_key_as_its_id():
    columns = {field.attname: field for field in Lead._meta.concrete_fields}
    own = [name for name in LEAD_ROW_COLUMNS if "__" not in name]
    assert len(own) == len(LeadSerializer.Meta.fields)
    for name, column in zip(LeadSerializer.Meta.fields, own, strict=True):
        assert columns[column].name == name
        assert column == (f"{name}_id" if columns[column].is_relation else name)
