"""First contact is agreed in hours (issue: "first contact within M hours"), not minutes.

Each version's minutes become whole hours, rounded up where they were not whole (90 minutes
become 2 hours): a service level only ever loosens, so no lead becomes overdue by the change.
Back again, hours become minutes exactly.
"""

from django.db import migrations, models


def minutes_to_hours(apps, schema_editor):
    # The historical model has no lifecycle guard: signed versions are restated, not changed.
    agreement = apps.get_model("scoring", "Agreement")
    minutes = agreement.objects.values_list("contact_within_minutes", flat=True).distinct()
    for value in minutes:
        hours = max(1, -(-value // 60))
        agreement.objects.filter(contact_within_minutes=value).update(contact_within_hours=hours)
    _checked_now(schema_editor)


def hours_to_minutes(apps, schema_editor):
    agreement = apps.get_model("scoring", "Agreement")
    for value in agreement.objects.values_list("contact_within_hours", flat=True).distinct():
        agreement.objects.filter(contact_within_hours=value).update(
            contact_within_minutes=value * 60
        )
    _checked_now(schema_editor)


def _checked_now(schema_editor):
    """Check the updated rows' deferred foreign keys now: PostgreSQL refuses to drop a column
    of a table with checks still pending in the transaction ("pending trigger events")."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [("scoring", "0007_rescore_run_progress")]

    operations = [
        migrations.AddField(
            model_name="agreement",
            name="contact_within_hours",
            field=models.PositiveIntegerField(
                default=24,
                help_text="SLA: an accepted lead must be first contacted within this many "
                "working hours.",
            ),
        ),
        migrations.RunPython(minutes_to_hours, hours_to_minutes),
        migrations.RemoveField(model_name="agreement", name="contact_within_minutes"),
    ]
