"""The health check without a round trip: a connection the server ended is replaced."""

import time

import pytest
from django.db import connection, connections

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def other_connection():
    other = connections.create_connection("default")
    other.ensure_connection()
    yield other
    other.close()


def backend_pid(wrapper) -> int:
    with wrapper.connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_settings_use_the_polling_backend():
    assert connection.vendor == "postgresql"
    assert type(connections["default"]).__module__ == "portal.postgresql.base"


def test_an_idle_connection_is_usable_without_a_query(other_connection, monkeypatch):
    def no_query(*args, **kwargs):
        raise AssertionError("the check sent a query")

    monkeypatch.setattr(type(other_connection).__mro__[1], "is_usable", no_query)
    assert other_connection.is_usable()


def test_a_connection_the_server_ended_is_not_usable_and_is_replaced(other_connection):
    pid = backend_pid(other_connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    deadline = time.monotonic() + 5
    while other_connection.is_usable():  # the server's goodbye arrives within milliseconds
        assert time.monotonic() < deadline, "a terminated connection still looked usable"
        time.sleep(0.01)

    # What Django does at the start of a request with CONN_HEALTH_CHECKS.
    other_connection.health_check_done = False
    other_connection.close_if_health_check_failed()
    other_connection.ensure_connection()
    assert backend_pid(other_connection) != pid
