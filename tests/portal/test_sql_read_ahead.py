"""Reading many rows with the next fetch on its way: the rows of the queryset, all of them,
once each; the cursor closed however the reader stops; a server error reaches the reader."""

import pytest
from django.db import DatabaseError, connection
from django.db.models import F, IntegerField
from django.db.models.expressions import ExpressionWrapper

from leads.models import Lead
from portal.sql import rows_read_ahead
from tests.factories import LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def open_cursors() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        return cursor.fetchone()[0]


def test_every_row_comes_once_over_many_fetches():
    leads = LeadFactory.create_batch(23)
    rows = Lead.objects.order_by().values_list("pk", "email")
    with rows_read_ahead(rows, chunk_size=5) as read:
        got = list(read)
    assert sorted(got) == sorted((lead.pk, lead.email) for lead in leads)
    assert all(type(row) is tuple for row in got)
    assert open_cursors() == 0


def test_a_reader_that_stops_early_leaves_no_cursor_open():
    LeadFactory.create_batch(30)
    rows = Lead.objects.order_by().values_list("pk")
    with rows_read_ahead(rows, chunk_size=4) as read:
        first = next(iter(read))
    assert first
    assert open_cursors() == 0
    assert Lead.objects.count() == 30  # the connection is this thread's again


def test_a_server_error_in_a_later_fetch_reaches_the_reader():
    leads = LeadFactory.create_batch(12)
    last = max(lead.pk for lead in leads)
    # Division by zero on the last lead only: the server fails in a FETCH after the first.
    rows = (
        Lead.objects.order_by("pk")
        .annotate(
            x=ExpressionWrapper(1 / (F("pk") - last), output_field=IntegerField()),
        )
        .values_list("pk", "x")
    )
    with pytest.raises(DatabaseError), rows_read_ahead(rows, chunk_size=3) as read:
        for _row in read:
            pass
