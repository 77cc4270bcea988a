"""A new lead, its first submission and the event saying so: one statement on PostgreSQL,
the same rows as the ORM writes them elsewhere (SQLite, the demo)."""

import pytest
from django.db import connection, connections
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from leads.capture.services import Provenance, lead_capture
from leads.capture.services import _new_lead_sql as _NEW_LEAD_SQL
from leads.models import Lead, LeadEvent, Submission
from tests.factories import FormFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CLEANED = {"email": "Ana@Acme.Example", "first_name": "Ana", "company": "Acme", "consent": True}
PROVENANCE = Provenance(
    page_url="https://acme.example/demo",
    utm={"utm_campaign": "spring"},
    ip_address="203.0.113.9",
    user_agent="test",
)


def capture(form, email):
    cleaned = {**CLEANED, "email": email}
    return lead_capture(form=form, payload=dict(cleaned), cleaned=cleaned, provenance=PROVENANCE)


def stored_rows(submission):
    """The three rows as the database holds them, without ids, times and the e-mail."""
    lead = Lead.objects.get(pk=submission.lead_id)
    event = LeadEvent.objects.get(lead=lead)
    stored = Submission.objects.get(pk=submission.pk)
    assert event.data["submission"] == stored.pk
    assert event.at == stored.received_at
    personal = {"id", "lead", "email", "created_at", "updated_at", "stage_changed_at"}
    personal |= {"received_at", "qualify_due_at", "at"}

    def row(instance, **replaced):
        values = {k: v for k, v in model_to_dict(instance).items() if k not in personal}
        return values | replaced

    return (
        row(lead, attributes={**lead.attributes, "email": None}),
        row(stored, payload={**stored.payload, "email": None}),
        row(event, data={**event.data, "submission": None}),
    )


def test_a_new_lead_is_one_insert_and_the_rows_match_the_orm_path(monkeypatch):
    form = FormFactory()
    with CaptureQueriesContext(connection) as queries:
        one_statement = capture(form, "ana@acme.example")
    # One prepared statement, planned once per connection (maybe by an earlier test).
    writes = [q["sql"] for q in queries if not q["sql"].startswith(("PREPARE", "SELECT"))]
    assert len(writes) == 1 and writes[0].startswith("EXECUTE leadbridge_new_lead (")
    assert "WITH new_lead AS (INSERT" in _NEW_LEAD_SQL()

    # The path SQLite takes: three INSERTs through the ORM.
    monkeypatch.setattr(connections["default"], "vendor", "sqlite")
    with CaptureQueriesContext(connection) as queries:
        three_statements = capture(form, "bruno@acme.example")
    assert len([q for q in queries if "INSERT" in q["sql"]]) == 3

    assert stored_rows(one_statement) == stored_rows(three_statements)
    # What the caller gets back is the saved submission, its lead attached.
    for submission in (one_statement, three_statements):
        assert not submission._state.adding and not submission.lead._state.adding
        assert (
            submission.lead_id
            == submission.lead.pk
            == Lead.objects.get(email=submission.lead.email).pk
        )


def test_a_known_email_inserts_nothing_new_for_the_lead():
    form = FormFactory()
    first = capture(form, "ana@acme.example")
    again = capture(form, "ANA@acme.example")
    assert again.lead_id == first.lead_id
    assert Lead.objects.count() == 1
    assert Submission.objects.filter(lead_id=first.lead_id).count() == 2
    kinds = list(LeadEvent.objects.filter(lead_id=first.lead_id).values_list("data", flat=True))
    assert [data["created"] for data in kinds] == [True, False]


# Closed inside a test's transaction, a connection would stay closed.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_connection_prepares_the_statement_again():
    """PostgreSQL forgets a prepared statement with its session; so does the backend."""
    form = FormFactory()
    capture(form, "ana@acme.example")
    assert "leadbridge_new_lead" in connection.prepared_statements
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        submission = capture(form, "bruno@acme.example")
    statements = [q["sql"] for q in queries]
    assert statements[0].startswith("PREPARE leadbridge_new_lead AS WITH new_lead AS")
    assert statements[1].startswith("EXECUTE leadbridge_new_lead (")
    assert Lead.objects.get(pk=submission.lead_id).email == "bruno@acme.example"


def test_the_statement_refuses_a_field_worked_out_per_row_unless_named():
    """A new field with `default=timezone.now` (or `auto_now`) must be given a value by the
    statement's author, not frozen into the statement at its first PREPARE."""
    from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured

    from portal.sql import insert_sql

    with pytest.raises(ImproperlyConfigured, match="received_at"):
        insert_sql(Submission, {"form": "$1", "form_version": "$2", "lead": "$3", "payload": "$4"})
    with pytest.raises(FieldDoesNotExist):
        insert_sql(Submission, {"no_such_field": "$1"})
