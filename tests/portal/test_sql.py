"""The bulk statements: column lists from the models, values written by COPY unchanged."""

import datetime

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.utils import timezone

from leads.events import events_record, new_reassigned
from leads.models import LeadEvent
from portal.sql import _copy_value, columns_sql, one_of
from tests.factories import LeadFactory, UserFactory


def test_columns_are_the_models_by_name_or_attname():
    assert columns_sql(LeadEvent, ["lead", "actor_id", "at"]) == (
        "leads_leadevent (lead_id, actor_id, at)"
    )


def test_a_name_the_model_has_not_fails_at_once():
    with pytest.raises(FieldDoesNotExist):
        columns_sql(LeadEvent, ["lead_id", "happened_at"])


AWKWARD = "tab\there, new\nline, CR\r, back\\slash, \\N, quote ' and \" and ü 🙂"


@pytest.mark.django_db
def test_events_written_in_bulk_keep_every_value_as_it_was():
    """PostgreSQL by COPY, elsewhere `bulk_create`: what a lead sent comes back unchanged."""
    lead = LeadFactory()
    data = {"note": AWKWARD, "n": 3, "flag": True, "none": None, "list": [1, "\t"]}
    events_record(
        [
            new_reassigned(
                lead=lead,
                from_rep_id=None,
                to_rep_id=UserFactory().pk,
                reason=AWKWARD,
                at=timezone.now(),
                data=data,
            )
        ]
    )
    event = LeadEvent.objects.get(lead=lead)
    assert event.reason == AWKWARD
    assert event.data["note"] == AWKWARD
    assert event.data["list"] == [1, "\t"]
    assert event.data["none"] is None and event.data["flag"] is True
    assert event.actor_id is None


def test_copy_writes_each_python_type_in_copys_text_format():
    moment = datetime.datetime(2026, 12, 6, 16, 0, tzinfo=datetime.UTC)
    assert _copy_value(None) == "\\N"
    assert _copy_value(True) == "t"
    assert _copy_value(7) == "7"
    assert _copy_value(moment) == "2026-12-06T16:00:00+00:00"
    assert _copy_value("a\tb\\") == "a\\tb\\\\"
    assert _copy_value({"a": "\n"}) == '{"a": "\\\\n"}'


@pytest.mark.django_db
def test_rows_save_writes_a_value_every_row_shares_once_and_each_rows_own():
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from leads.models import Lead
    from portal.sql import rows_save

    leads = [LeadFactory(company=f"Acme {n}", score=1) for n in range(3)]
    at = timezone.now().replace(microsecond=0)
    rows = [(lead.pk, 10 * n, "routed", at, {"why": ["same"]}) for n, lead in enumerate(leads)]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        rows_save(Lead, ["score", "stage", "stage_changed_at", "attributes"], rows)
    stored = Lead.objects.order_by("pk").values_list(
        "score", "stage", "stage_changed_at", "attributes", "company"
    )
    assert list(stored) == [
        (10 * n, "routed", at, {"why": ["same"]}, f"Acme {n}") for n in range(3)
    ]
    if connection.vendor == "postgresql":
        (update,) = [q["sql"] for q in queries.captured_queries]
        assert update.count("'routed'") == update.count('"why"') == 1  # not once a row


@pytest.mark.django_db
def test_one_of_selects_exactly_the_ids_given_and_none_for_no_ids():
    leads = [LeadFactory() for _ in range(4)]
    wanted = [leads[0].pk, leads[2].pk, leads[2].pk + 1000]

    def selected(ids) -> set[int]:
        condition, params = one_of("id", ids)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM leads_lead WHERE {condition}", params)  # noqa: S608
            return {pk for (pk,) in cursor.fetchall()}

    assert selected(wanted) == {leads[0].pk, leads[2].pk}
    assert selected([]) == set()


@pytest.mark.postgres
def test_on_postgresql_one_of_is_one_array_parameter_however_many_ids():
    assert connection.vendor == "postgresql"
    assert one_of("s.id", range(1, 251)) == ("s.id = ANY(%s)", [list(range(1, 251))])
