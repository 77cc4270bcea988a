from django.db import migrations, models


class Migration(migrations.Migration):
    """Days off in an agreement's working hours: service levels do not count them."""

    dependencies = [
        ('scoring', '0013_run_of_clocks'),
    ]

    operations = [
        migrations.AddField(
            model_name='agreement',
            name='holidays',
            field=models.JSONField(blank=True, default=list, help_text='Days off (YYYY-MM-DD, local dates): no working hours on them.'),
        ),
    ]
