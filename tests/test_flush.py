"""A transactional test's flush on PostgreSQL deletes the rows (tests/conftest.py) and leaves
every table as empty as TRUNCATE would."""

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

from portal.dashboard.models import FactsStale
from tests.factories import LeadFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_flush_deletes_and_empties_every_table_the_triggers_write_too():
    with transaction.atomic():
        lead = LeadFactory()
        # Seen in the writer's transaction, where no fold on another connection can take it
        # (a fold claims committed marks only): once committed, any fold on this database may.
        assert FactsStale.objects.filter(lead_id=lead.pk).exists()  # the triggers marked it
    UserFactory()
    tables = connection.introspection.django_table_names(only_existing=True)
    sql = connection.ops.sql_flush(no_style(), tables)
    assert sql[0] == "SET CONSTRAINTS ALL DEFERRED;"
    assert all(line.startswith("DELETE FROM ") for line in sql[1:])

    call_command("flush", interactive=False, reset_sequences=False, inhibit_post_migrate=True)

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            assert cursor.fetchone() == (0,), table


def test_no_trigger_of_ours_fires_on_a_delete():
    # What lets the flush delete in any order: a trigger on DELETE could write a table that
    # was already emptied.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgtype & 8 = 8"
        )
        assert cursor.fetchall() == []
