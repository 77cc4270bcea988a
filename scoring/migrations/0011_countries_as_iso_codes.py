"""Criteria on a country keep ISO 3166-1 alpha-2 codes, as leads now do (leads 0011).

Every criterion that compares a country (“country is one of”, and “is one of”, “equals” and
their negations on a country attribute) has its values turned into codes by the same
mapping that turned the leads' values, so that a lead and a criterion that named the same
country still meet. This includes proposed and active versions: their text does not
change (the page names each code's country), only how the value is written, and a version
judges a lead the same way it did whenever both sides spelled the country one way. A value
no spelling maps is kept as it is. The historical model has none of the guards of
scoring.models, which refuse any write to a proposed version's criteria.
"""

from django.db import migrations

from portal.countries import COMPARED_OPERATORS, coded, historical_country_keys


def to_codes(apps, schema_editor):
    Criterion = apps.get_model("scoring", "Criterion")
    keys = historical_country_keys(apps)
    changed = []
    for criterion in Criterion.objects.filter(operator__in=COMPARED_OPERATORS):
        if criterion.operator != "country_in" and criterion.attribute not in keys:
            continue
        value = coded(criterion.value)
        if value != criterion.value:
            criterion.value = value
            changed.append(criterion)
    Criterion.objects.bulk_update(changed, ["value"])


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0010_criterion_results_checked_by_their_writer"),
        ("leads", "0011_countries_as_iso_codes"),
        ("capture", "0011_import_route_open_leads"),
    ]

    operations = [migrations.RunPython(to_codes, migrations.RunPython.noop)]
