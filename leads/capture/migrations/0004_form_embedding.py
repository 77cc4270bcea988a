# Embedding origins, and a GUID for the compatible (HubSpot, Salesforce) endpoints. The GUID
# is added nullable, filled per row (a column default would give every form the same one),
# then made unique and required (0005: PostgreSQL will not alter a table with pending
# deferred checks).

import uuid

from django.db import migrations, models


def give_each_form_a_guid(apps, schema_editor):
    Form = apps.get_model("capture", "Form")
    for form in Form.objects.filter(guid__isnull=True):
        form.guid = uuid.uuid4()
        form.save(update_fields=["guid"])


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0003_remove_form_is_published"),
    ]

    operations = [
        migrations.AddField(
            model_name="form",
            name="allowed_origins",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Sites (scheme://host[:port]) that may embed the form and post to it.",
            ),
        ),
        migrations.AddField(
            model_name="form",
            name="guid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_form_a_guid, migrations.RunPython.noop),
    ]
