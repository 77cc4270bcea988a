"""Leads keep countries as ISO 3166-1 alpha-2 codes ("US"), shown by name on pages.

Each lead's country attributes (the keys of the forms' country fields, and "country") are
turned from the names stored so far into codes; a value no spelling maps is kept as it is.
Submissions keep their payloads exactly as received. Not reversed: the spelling a lead used
is in its submissions, and codes read as well as names by everything after this.
"""

from django.db import migrations

from portal.countries import coded, historical_country_keys

CHUNK = 2000


def to_codes(apps, schema_editor):
    Lead = apps.get_model("leads", "Lead")
    keys = list(historical_country_keys(apps))
    changed = []
    leads = Lead.objects.filter(attributes__has_any_keys=keys).only("pk", "attributes")
    for lead in leads.iterator(chunk_size=CHUNK):
        attributes = {
            key: coded(value) if key in keys else value for key, value in lead.attributes.items()
        }
        if attributes != lead.attributes:
            lead.attributes = attributes
            changed.append(lead)
        if len(changed) >= CHUNK:
            Lead.objects.bulk_update(changed, ["attributes"])
            changed = []
    Lead.objects.bulk_update(changed, ["attributes"])


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0010_lead_without_email_and_submission_problems"),
        ("capture", "0011_import_route_open_leads"),
    ]

    operations = [migrations.RunPython(to_codes, migrations.RunPython.noop)]
