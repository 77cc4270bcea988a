import importlib

import pytest
from django.apps import apps
from django.db import connection

statistics = importlib.import_module("leads.migrations.0020_lead_stage_queue_and_form_statistics")

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")


def _lead_by_id_plan() -> str:
    """The plan of the check a foreign key to a lead makes (PostgreSQL's own query)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT 1 FROM ONLY leads_lead x WHERE id = 1 FOR KEY SHARE OF x")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_statistics_on_an_empty_leads_table_leave_a_lead_found_by_its_key():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads_lead")
        assert cursor.fetchone() == (0,)
    with connection.schema_editor() as editor:
        statistics.create(apps, editor)
    assert "leads_lead_pkey" in _lead_by_id_plan()
