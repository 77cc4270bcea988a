"""Under xdist on PostgreSQL each process tests on its own copy of the one database the run
migrated (tests/conftest.py), holding what the migrations wrote: the roles' groups too."""

import os

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.mark.skipif("PYTEST_XDIST_WORKER" not in os.environ, reason="runs under xdist only")
def test_each_process_tests_on_a_copy_of_the_runs_migrated_database():
    worker = os.environ["PYTEST_XDIST_WORKER"]
    name = connection.settings_dict["NAME"]
    assert name.endswith(f"_template_{worker}"), name
    template = name.removesuffix(f"_{worker}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        assert cursor.fetchone() == (1,)
    assert MigrationRecorder.Migration.objects.filter(app="leads").exists()
    assert Group.objects.exists()
