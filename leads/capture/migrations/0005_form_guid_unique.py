import uuid

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0004_form_embedding"),
    ]

    operations = [
        migrations.AlterField(
            model_name="form",
            name="guid",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="The form's id for the HubSpot and Salesforce compatible endpoints.",
                unique=True,
            ),
        ),
    ]
