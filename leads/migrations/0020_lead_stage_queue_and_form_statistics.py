"""PostgreSQL's planner told how stages and queues (and forms) go together: a manager's list
filtered by a queue or form with few leads in the tab is then read from that queue's or
form's rows, not by walking the tab's order index and discarding the rest (docs/inbox.md).
Statistics only: nothing is written on an insert or an update, ANALYZE keeps them (here only
when there are leads to analyze)."""

from django.db import migrations

STATISTICS = {
    "lead_stage_queue_stats": "stage, queue_id",
    "lead_stage_form_stats": "stage, source_form_id",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in STATISTICS.items():
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {name} (mcv) ON {columns} FROM leads_lead"
        )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM leads_lead)")
        (has_leads,) = cursor.fetchone()
    # An empty table once analyzed is planned as empty: a connection then plans the foreign
    # keys' checks on a lead (two a post) as a scan of the whole table, and keeps that plan
    # while the table grows (bench/intake.py: 0.3 ms more a secure HubSpot post, autovacuum
    # off). Never analyzed, the planner assumes ten pages and reads the primary key.
    if has_leads:
        schema_editor.execute("ANALYZE leads_lead")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0019_inbox_everyones_pages_in_index_order")]

    operations = [migrations.RunPython(create, drop)]
