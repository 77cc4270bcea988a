"""PostgreSQL's planner told how stages and queues (and forms) go together: a manager's list
filtered by a queue or form with few leads in the tab is then read from that queue's or
form's rows, not by walking the tab's order index and discarding the rest (docs/inbox.md).
Statistics only: nothing is written on an insert or an update, ANALYZE keeps them."""

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
    schema_editor.execute("ANALYZE leads_lead")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in STATISTICS:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0019_inbox_everyones_pages_in_index_order")]

    operations = [migrations.RunPython(create, drop)]
