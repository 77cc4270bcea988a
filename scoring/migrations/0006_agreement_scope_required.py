# A separate migration: PostgreSQL refuses to alter a table in the transaction that just
# updated its foreign keys (pending trigger events).

import django.db.models.deletion
import scoring.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0005_agreement_scope_and_business_hours'),
    ]

    operations = [
        migrations.AlterField(
            model_name='agreement',
            name='scope',
            field=models.ForeignKey(default=scoring.models.main_scope_id, on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='scoring.agreementscope'),
        ),
    ]
