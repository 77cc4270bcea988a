"""An event's lead has no constraint in the database (every writer of an event holds its lead
in the same transaction, whose own row is checked): Django still deletes a lead's events
with it, and the database still checks an event's actor."""

import pytest
from django.db import connection
from django.db.models import ProtectedError

from leads.events import event_note, events_record, new_note
from leads.models import Lead, LeadEvent
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def _foreign_keys(table: str) -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {c["columns"][0] for c in found.values() if c["foreign_key"]}


def test_the_database_checks_an_events_actor_but_not_its_lead():
    assert _foreign_keys("leads_leadevent") == {"actor_id"}


def test_deleting_a_lead_deletes_its_events_written_one_by_one_and_in_batches():
    lead, other = LeadFactory(), LeadFactory()
    by = UserFactory()
    event_note(lead=lead, by=by, text="Called twice.")
    events_record([new_note(lead=lead, text="Batch."), new_note(lead=other, text="Kept.")])

    Lead.objects.filter(pk=lead.pk).delete()

    assert not LeadEvent.objects.filter(lead_id=lead.pk).exists()
    assert list(LeadEvent.objects.values_list("lead_id", "reason")) == [(other.pk, "Kept.")]


def test_an_events_actor_is_still_protected():
    lead, by = LeadFactory(), UserFactory()
    event_note(lead=lead, by=by, text="Mine.")
    with pytest.raises(ProtectedError):
        by.delete()
