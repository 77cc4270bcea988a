import datetime

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion
import django.utils.timezone

# Members before history was kept count as members since long before any lead.
SINCE_ALWAYS = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def spells_for_members_now(apps, schema_editor):
    QueueMember = apps.get_model("routing", "QueueMember")
    Membership = apps.get_model("routing", "Membership")
    Membership.objects.bulk_create(
        Membership(queue_id=queue_id, rep_id=rep_id, weight=weight, started_at=SINCE_ALWAYS)
        for queue_id, rep_id, weight in QueueMember.objects.values_list(
            "queue_id", "rep_id", "weight"
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0007_member_caps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("weight", models.PositiveSmallIntegerField(default=1)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                (
                    "queue",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="routing.queue",
                    ),
                ),
                (
                    "rep",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="queue_spells",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["queue", "started_at"],
                "indexes": [
                    models.Index(fields=["queue", "started_at"], name="routing_mem_queue_i_b29ac3_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("ended_at__isnull", True)),
                        fields=("queue", "rep"),
                        name="membership_one_open_spell",
                    )
                ],
            },
        ),
        migrations.RunPython(spells_for_members_now, migrations.RunPython.noop),
    ]
