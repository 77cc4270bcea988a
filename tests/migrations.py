"""Moving a schema back and forth, as `manage.py migrate` does, in a database of its own."""

import copy
from contextlib import contextmanager

from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend

from portal.dashboard import facts


@contextmanager
def scratch_database():
    """Inside, `connection` (the default alias) is a new empty database, dropped at the end.

    A data migration's test migrates it forward from nothing to the old state, adds rows,
    and migrates on: the run's test database is never migrated back (5-6 s of CPU, Django
    renders every later migration's state to unapply them) nor forward again to the
    latest (3 s), and needs no flush and reload afterwards. On PostgreSQL a database named
    after the test database (so each xdist process has its own), on SQLite one in memory."""
    shared = connections["default"]
    settings_dict = copy.deepcopy(shared.settings_dict)
    if shared.vendor == "sqlite":
        settings_dict["NAME"] = ":memory:"
    else:
        settings_dict["NAME"] = f"{shared.settings_dict['NAME']}_scratch"
        _execute_outside(shared, f"DROP DATABASE IF EXISTS {_quoted(shared, settings_dict)}")
        _execute_outside(shared, f"CREATE DATABASE {_quoted(shared, settings_dict)}")
    scratch = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = scratch
    try:
        yield
    finally:
        connections["default"] = shared
        BaseDatabaseWrapper.close(scratch)  # SQLite's own close() keeps a memory database
        if shared.vendor != "sqlite":
            _execute_outside(shared, f"DROP DATABASE {_quoted(shared, settings_dict)}")


def _quoted(shared, settings_dict) -> str:
    return shared.ops.quote_name(settings_dict["NAME"])


def _execute_outside(shared, sql: str) -> None:
    """CREATE and DROP DATABASE run outside a transaction, which the test holds open."""
    with shared.creation._nodb_cursor() as cursor:
        cursor.execute(sql)


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
