# The status field (draft, published, archived) replaces it; 0002 copied it over.
# A separate migration: PostgreSQL will not alter a table with pending deferred checks.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("capture", "0002_versions"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="form",
            name="is_published",
        ),
    ]
