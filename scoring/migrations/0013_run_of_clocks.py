import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """The re-scoring's progress row also follows the recount of the running clocks."""

    dependencies = [
        ('scoring', '0012_qualification_flag'),
    ]

    operations = [
        migrations.AddField(
            model_name='rescorerun',
            name='kind',
            field=models.CharField(choices=[('leads', 'Open leads judged again'), ('clocks', 'Due times counted again')], default='leads', max_length=10),
        ),
        migrations.AddField(
            model_name='rescorerun',
            name='queue_id',
            field=models.PositiveIntegerField(blank=True, help_text="A recount of one queue's clocks only; else every one.", null=True),
        ),
        migrations.AddField(
            model_name='rescorerun',
            name='why',
            field=models.CharField(blank=True, help_text='What started it, in words.', max_length=200),
        ),
        migrations.AlterField(
            model_name='rescorerun',
            name='agreement',
            field=models.ForeignKey(blank=True, help_text='The version that judges the leads again (a re-scoring).', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='scoring.agreement'),
        ),
        migrations.AlterField(
            model_name='rescorerun',
            name='cursor',
            field=models.BigIntegerField(default=0, help_text='The last lead done.'),
        ),
        migrations.AlterField(
            model_name='rescorerun',
            name='total',
            field=models.PositiveIntegerField(default=0, help_text='Leads to do when it started.'),
        ),
    ]
