from django.db import migrations

from portal.accounts.grants import permission_granted

# Those who set queues up (view and change since 0002) also make new ones on the queue page.
QUEUE_MANAGERS = ["Sales manager", "Admin"]
PERMISSION = ("routing", "add_queue")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_marketing_and_managers_export"),
        ("routing", "0001_initial"),
    ]

    operations = [permission_granted(PERMISSION, QUEUE_MANAGERS)]
