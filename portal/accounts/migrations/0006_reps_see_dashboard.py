from django.db import migrations

from portal.accounts.grants import permission_granted

# The shared dashboard: reps see the same team-wide numbers as everyone else (issue 20).
PERMISSION = ("leads", "view_dashboard")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_managers_add_queues"),
        ("leads", "0002_initial"),
    ]

    operations = [permission_granted(PERMISSION, ["Sales rep"])]
