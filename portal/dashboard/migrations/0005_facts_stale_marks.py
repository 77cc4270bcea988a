from django.db import migrations, models

from portal.dashboard.facts import facts_uninstall


def _nothing(apps, schema_editor):
    """The triggers that mark the leads are installed after `migrate` (facts.after_migrate)."""


def _triggers_off(apps, schema_editor):
    """On the way down: the marking triggers name the marks' table, which goes next."""
    facts_uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    """The marks the facts' triggers write in the writer's transaction, for the fold to
    recount later (portal.dashboard.facts)."""

    dependencies = [
        ("dashboard", "0004_handoff_review_schedule"),
    ]

    operations = [
        migrations.RunPython(_nothing, _triggers_off),
        migrations.CreateModel(
            name="FactsStale",
            fields=[
                ("pk", models.CompositePrimaryKey("lead_id", "tx", blank=True, editable=False, primary_key=True, serialize=False)),
                ("lead_id", models.BigIntegerField()),
                ("tx", models.BigIntegerField(default=0)),
            ],
        ),
    ]
