"""A data migration's test migrates a database of its own (tests/migrations.py): it starts
empty, and the test database is still at every app's latest migration afterwards."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.migrations import migrate, scratch_database

pytestmark = pytest.mark.django_db


def test_a_scratch_database_starts_empty_and_leaves_the_test_database_as_it_was():
    shared = connection.introspection.table_names()
    with scratch_database():
        assert connection.introspection.table_names() == []
        migrate([("capture", "0001_initial")])
        assert "capture_form" in connection.introspection.table_names()
        scratch = connection.settings_dict["NAME"]
    assert connection.introspection.table_names() == shared
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [scratch])
            assert cursor.fetchone() is None
