"""A queue's rule becomes a set of conditions judged by the agreement's engine.

Each one-attribute rule (`match_attribute` taking `match_values`) becomes one condition
"attribute is one of values" ("country is one of" on a country attribute, whose values are
ISO codes since 0002): the engine compares texts without case, as the old rule did, and a
blank still fails. A rule with no attribute (every lead) becomes no conditions. Reversing
keeps a queue's first "is one of" condition, the only kind the old rule could say.
"""

from django.db import migrations, models

from portal.countries import historical_country_keys


def to_conditions(apps, schema_editor):
    Queue = apps.get_model("routing", "Queue")
    countries = historical_country_keys(apps)
    for queue in Queue.objects.exclude(match_attribute=""):
        operator = "country_in" if queue.match_attribute in countries else "one_of"
        queue.conditions = [
            {
                "attribute": queue.match_attribute,
                "operator": operator,
                "value": list(queue.match_values),
                "blank_passes": False,
            }
        ]
        queue.save(update_fields=["conditions"])


def to_one_attribute(apps, schema_editor):
    Queue = apps.get_model("routing", "Queue")
    for queue in Queue.objects.exclude(conditions=[]):
        first = next(
            (c for c in queue.conditions if c.get("operator") in ("one_of", "country_in")), None
        )
        if first is not None:
            queue.match_attribute = first["attribute"]
            queue.match_values = list(first["value"])
            queue.save(update_fields=["match_attribute", "match_values"])


class Migration(migrations.Migration):
    dependencies = [("routing", "0003_escalation_ladder")]

    operations = [
        migrations.AddField(
            model_name="queue",
            name="conditions",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="The rule: conditions on lead attributes that must all hold, judged "
                "by the agreement's engine (leads/routing/rules.py); none takes every lead.",
            ),
        ),
        migrations.RunPython(to_conditions, to_one_attribute),
        migrations.RemoveField(model_name="queue", name="match_attribute"),
        migrations.RemoveField(model_name="queue", name="match_values"),
    ]
