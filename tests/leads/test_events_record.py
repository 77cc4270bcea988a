"""Batches of lead events are written without model instances on PostgreSQL: the rows are
those `bulk_create` wrote, field by field, in the order given, on either database."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from leads.events import event_save, events_record, new_note, new_stage_changed, notes_record
from leads.models import LeadEvent, Stage
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 25, 12, 30, 15, 123456, tzinfo=UTC)
TEXTS = ["Plain.", "Tab\tnew\nline \\ back ' quote %s ünï", ""]
FIELDS = ["lead_id", "kind", "at", "actor_id", "from_stage", "to_stage", "reason"]
FIELDS += ["reason_code", "data"]


def rows() -> list[tuple]:
    return list(LeadEvent.objects.order_by("pk").values_list(*FIELDS))


def batch():
    lead, other = LeadFactory(stage=Stage.QUALIFIED), LeadFactory()
    by = UserFactory()
    return [
        new_stage_changed(
            lead=lead,
            from_stage=Stage.CAPTURED,
            by=by,
            reason=TEXTS[1],
            at=AT,
            reason_code="no_budget",
            data={"historic": True, "queue": 3, "nested": {"a": [1, "b"]}},
        ),
        new_note(lead=other, text=TEXTS[0], at=AT),
        new_stage_changed(lead=other, from_stage=Stage.CAPTURED, by=None, reason="", at=AT),
    ]


def expected(events) -> list[tuple]:
    return [tuple(getattr(event, field) for field in FIELDS) for event in events]


def test_a_batch_of_events_is_stored_field_by_field_in_its_order():
    events = batch()
    with transaction.atomic():
        events_record(events)
    assert rows() == expected(events)


def test_notes_on_many_leads_are_stored_like_new_note_built_them():
    leads = [LeadFactory() for _ in TEXTS]
    by = UserFactory()
    with transaction.atomic():
        notes_record([(lead.pk, text) for lead, text in zip(leads, TEXTS, strict=True)], at=AT)
        notes_record([(leads[0].pk, "By a person.")], at=AT, by=by)
    notes = [new_note(lead=lead, text=text, at=AT) for lead, text in zip(leads, TEXTS, strict=True)]
    notes.append(new_note(lead=leads[0], text="By a person.", at=AT, by=by))
    assert rows() == expected(notes)


@pytest.mark.postgres
def test_on_postgresql_the_rows_are_those_bulk_create_wrote():
    assert connection.vendor == "postgresql"
    events = batch()  # rows, not models: the same values as LeadEvents for bulk_create
    models = [LeadEvent(lead=e.lead, **{f: getattr(e, f) for f in FIELDS[1:]}) for e in events]
    with transaction.atomic():
        LeadEvent.objects.bulk_create(models)
        with_models = rows()
        LeadEvent.objects.all().delete()
        events_record(events)
    assert rows() == with_models


def test_one_event_built_for_a_batch_is_saved_as_a_model_with_its_values():
    event = batch()[0]
    with transaction.atomic():
        saved = event_save(event)
    assert isinstance(saved, LeadEvent) and saved.pk is not None
    assert rows() == expected([event])


def test_many_leads_are_saved_with_their_own_values_and_nothing_else_changes(
    django_assert_num_queries,
):
    from leads.lifecycle import leads_save
    from leads.models import Lead

    leads = [LeadFactory(company=f"Acme {n}") for n in range(4)]
    owner = UserFactory()
    for n, lead in enumerate(leads):
        lead.score = None if n == 3 else n * 10
        lead.stage = [Stage.QUALIFIED, Stage.DISQUALIFIED, Stage.QUALIFIED, Stage.ROUTED][n]
        lead.stage_changed_at = AT.replace(minute=n)
        lead.owner = owner if n == 3 else None
        lead.company = "not saved"
    statements = 1 if connection.vendor == "postgresql" else 4  # SQLite: one per set of values
    with transaction.atomic(), django_assert_num_queries(statements):
        leads_save([*leads, leads[0]], ["score", "stage", "stage_changed_at", "owner"])
    stored = Lead.objects.order_by("pk").values_list(
        "score", "stage", "stage_changed_at", "owner_id", "company"
    )
    assert list(stored) == [
        (0, Stage.QUALIFIED, AT.replace(minute=0), None, "Acme 0"),
        (10, Stage.DISQUALIFIED, AT.replace(minute=1), None, "Acme 1"),
        (20, Stage.QUALIFIED, AT.replace(minute=2), None, "Acme 2"),
        (None, Stage.ROUTED, AT.replace(minute=3), owner.pk, "Acme 3"),
    ]


def test_many_leads_get_their_own_scores_and_nothing_else_changes(django_assert_num_queries):
    from leads.lifecycle import leads_scores_save
    from leads.models import Lead

    leads = [LeadFactory(company=f"Acme {n}", score=1) for n in range(3)]
    statements = 1 if connection.vendor == "postgresql" else 2  # SQLite: one per score
    with transaction.atomic(), django_assert_num_queries(statements):
        leads_scores_save({leads[0].pk: 30, leads[2].pk: 0}, at=AT)
    stored = Lead.objects.order_by("pk").values_list("score", "updated_at", "company")
    assert list(stored) == [
        (30, AT, "Acme 0"),
        (1, leads[1].updated_at, "Acme 1"),
        (0, AT, "Acme 2"),
    ]
