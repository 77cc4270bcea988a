"""Beat's entry for the handoff review (django_celery_beat's DatabaseScheduler): Mondays at
08:00 in TIME_ZONE until a manager chooses another day and time on the reviews page. In the
database, not CELERY_BEAT_SCHEDULE: beat writes the settings' entries over the database's on
every start, which would undo the managers' choice."""

from django.conf import settings
from django.db import migrations

NAME = "handoff-review"


def schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="8",
        day_of_week="1",
        day_of_month="*",
        month_of_year="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=NAME, defaults={"task": "dashboard.freeze_review", "crontab": crontab}
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0003_lead_facts_steps_and_judgements"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
