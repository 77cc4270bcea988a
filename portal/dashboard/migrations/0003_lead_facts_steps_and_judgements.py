import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def room_to_update(apps, schema_editor):
    """A quarter of each page kept free: a lead's facts are updated a dozen times in its
    first hour, and an update that finds room on its page (and changes no indexed column) is
    HOT, writing no index entry."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE dashboard_leadfacts SET (fillfactor = 75)")


class Migration(migrations.Migration):
    """The lead's service-level steps and what its judgements in force say, kept in its
    facts (the triggers and the recount follow after `migrate`:
    portal.dashboard.facts.after_migrate), and room on each page to update."""

    dependencies = [
        ("dashboard", "0002_lead_facts"),
        ("scoring", "0012_qualification_flag"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name="leadfacts", name=name, field=models.DateTimeField(null=True)
            )
            for name in ("accept_due_at", "accept_met_at", "contact_due_at", "contact_met_at")
        ),
        *(
            migrations.AddField(
                model_name="leadfacts",
                name=name,
                field=models.ForeignKey(
                    db_constraint=False,
                    db_index=False,
                    null=True,
                    on_delete=django.db.models.deletion.DO_NOTHING,
                    related_name="+",
                    to=settings.AUTH_USER_MODEL,
                ),
            )
            for name in ("accept_rep", "contact_rep")
        ),
        migrations.AddField(
            model_name="leadfacts",
            name="judgements",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Each judgement in force as agreement id:score:1 (qualified) or 0, "
                "comma-separated.",
            ),
        ),
        migrations.AddField(
            model_name="leadfacts",
            name="failed_criteria",
            field=models.TextField(
                blank=True,
                default="",
                help_text="The ids of the criteria any judgement in force failed, "
                "comma-separated.",
            ),
        ),
        migrations.AddIndex(
            model_name="leadfacts",
            index=models.Index(fields=["campaign"], name="leadfacts_campaign_idx"),
        ),
        migrations.RunPython(room_to_update, migrations.RunPython.noop),
    ]
