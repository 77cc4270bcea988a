"""Moving the test database's schema back and forth, as `manage.py migrate` does."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from portal.dashboard import facts


def migrate(targets=None):
    """Migrate to `targets` (every app's latest when None) and return that state's apps.

    Like the `migrate` command, and unlike a bare `MigrationExecutor`, the dashboard's facts
    triggers are taken off first where the schema change needs it (SQLite remakes a table to
    alter it) and put back, their rows recounted, once the facts' table is whole again."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    facts.before_migrate(using=connection.alias, plan=plan)
    executor.migrate(targets, plan=plan)
    facts.after_migrate(using=connection.alias, plan=plan)
    return executor.loader.project_state(targets).apps
