from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("routing", "0006_queue_working_hours")]

    operations = [
        migrations.AddField(
            model_name="queuemember",
            name="open_cap",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Most open leads this rep may hold; blank: the queue's cap.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="queuemember",
            name="daily_cap",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Most leads this rep gets from this queue in a day; blank: the queue's cap.",
                null=True,
            ),
        ),
    ]
