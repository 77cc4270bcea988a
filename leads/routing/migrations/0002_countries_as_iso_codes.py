"""Queue rules on a country keep ISO 3166-1 alpha-2 codes, as leads now do (leads 0011).

The same mapping as the leads' values, so a queue still takes the leads it took; a value no
spelling maps is kept as it is. The queue page names each code's country.
"""

from django.db import migrations

from portal.countries import coded, historical_country_keys


def to_codes(apps, schema_editor):
    Queue = apps.get_model("routing", "Queue")
    keys = historical_country_keys(apps)
    for queue in Queue.objects.filter(match_attribute__in=keys):
        values = coded(queue.match_values)
        if values != queue.match_values:
            queue.match_values = values
            queue.save(update_fields=["match_values"])


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0001_initial"),
        ("leads", "0011_countries_as_iso_codes"),
        ("capture", "0011_import_route_open_leads"),
    ]

    operations = [migrations.RunPython(to_codes, migrations.RunPython.noop)]
