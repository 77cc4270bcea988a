import fcntl
import shutil
import signal
import socket
import subprocess
import time

import pytest
from django.conf import settings
from kombu import pools
from pytest_django.fixtures import _get_databases_for_setup


def pytest_configure(config):
    if settings.USING_POSTGRES:
        from django.db.backends.postgresql.operations import DatabaseOperations

        DatabaseOperations.sql_flush = _flush_by_delete(DatabaseOperations.sql_flush)


def _flush_by_delete(truncate):
    """A transactional test ends by emptying every table (Django's flush). PostgreSQL's
    TRUNCATE of the ~60 tables makes each a new file: 0.2 s on a quiet machine, 2-4 s on a
    busy one, where deleting their few rows takes a tenth of that. Every foreign key is
    deferrable, and no trigger fires on a delete, so the deletes in one transaction leave
    what TRUNCATE leaves. Sequences restarted or a cascade asked for: TRUNCATE, as Django."""

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade or not tables:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            "SET CONSTRAINTS ALL DEFERRED;",
            *(f"DELETE FROM {self.quote_name(table)};" for table in tables),  # noqa: S608
        ]

    return sql_flush


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_keepdb,
    django_db_modify_db_settings,
    tmp_path_factory,
):
    """pytest-django's set-up, except that the xdist processes of a run on PostgreSQL migrate
    one database between them and each takes a copy (CREATE DATABASE ... TEMPLATE): every
    process migrating its own cost each ~15 s of CPU (Django renders the models' states
    through ~160 migrations) on the two cores it shares, for the same schema and rows."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = request.config.option.verbose
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    connection = connections["default"]
    if worker is None or django_db_keepdb or aliases != {"default"} or not settings.USING_POSTGRES:
        with django_db_blocker.unblock():
            config = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                keepdb=django_db_keepdb,
            )
        yield
        if not django_db_keepdb:
            with django_db_blocker.unblock():
                teardown_databases(config, verbosity=verbosity)
        return

    original = connection.settings_dict["NAME"]
    template = _template_name(connection, worker)
    with django_db_blocker.unblock():
        run = tmp_path_factory.getbasetemp().parent  # one directory for a run's processes
        with (run / "test-database.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait while the first migrates
            if not (run / "test-database.migrated").exists():
                connection.settings_dict["TEST"]["NAME"] = template
                connection.creation.create_test_db(verbosity, autoclobber=True, serialize=False)
                (run / "test-database.migrated").touch()
            _use_database(connection, template)
            connection.creation.clone_test_db(suffix=worker, verbosity=verbosity)
        _use_database(connection, f"{template}_{worker}")
        if "default" in serialized_aliases:
            connection._test_serialized_contents = connection.creation.serialize_db_to_string()
    yield
    with django_db_blocker.unblock():
        connection.creation.destroy_test_db(original, verbosity)


def _template_name(connection, worker: str | None) -> str:
    """The run's migrated database, that each xdist process copies: the test database's name
    without the process's suffix (test_leadbridge, not test_leadbridge_gw0), and "_template"."""
    name = connection.creation._get_test_db_name()
    return f"{name.removesuffix(f'_{worker}') if worker else name}_template"


def _use_database(connection, name: str) -> None:
    connection.close()
    settings.DATABASES[connection.alias]["NAME"] = connection.settings_dict["NAME"] = name


def _drop_template(config) -> None:
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    connection = connections["default"]
    with config.stash[blocking_manager_key].unblock(), connection.creation._nodb_cursor() as cursor:
        name = connection.creation._quote_name(_template_name(connection, None))
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


def pytest_collection_modifyitems(config, items):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    missing = {
        "postgres": (
            not settings.USING_POSTGRES,
            f"the tests run on {engine}; start PostgreSQL on 127.0.0.1:5432 "
            "or set DATABASE_URL to a PostgreSQL server",
        ),
        "redis": (
            not settings.USING_REDIS,
            "no Celery broker; start Redis on 127.0.0.1:6379 or set CELERY_BROKER_URL",
        ),
    }
    for item in items:
        for marker, (absent, reason) in missing.items():
            if absent and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}: {reason}"))
    unserialized = [item.nodeid for item in items if _flushes_without_serialized_rollback(item)]
    if unserialized:
        raise pytest.UsageError(
            "Transactional tests without serialized_rollback=True: " + ", ".join(unserialized)
        )


def _flushes_without_serialized_rollback(item) -> bool:
    """A transactional test's flush without serialized_rollback re-creates the content types
    (post_migrate) but not the roles' groups; the next serialized test in that process then
    fails to load its copy of the database ("duplicate key ... (accounts, user)"), and the
    plain tests after it miss the roles. Every transactional test rolls back serialized."""
    marker = item.get_closest_marker("django_db")
    return bool(
        marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback")
    )


def pytest_sessionfinish(session, exitstatus):
    """A run that collected no test fails as a failure (1), never as pytest's 5: a path or
    a -k that matches nothing has tested nothing, and nobody may read that as a pass. xdist's
    controller, once every process has finished, drops the run's migrated database."""
    if session.config.pluginmanager.has_plugin("dsession") and settings.USING_POSTGRES:
        _drop_template(session.config)
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.config.get_terminal_writer().line(
            "No test was collected: check the paths, -k and -m of this run.", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


class RedisServer:
    """A `redis-server` of the test's own on a free port: stop, start, pause and resume it
    freely (never the machine's shared one)."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - the redis-server binary, our arguments
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


REDIS_SERVER = shutil.which("redis-server")
needs_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None, reason="needs the redis-server binary to start a Redis of its own"
)


@pytest.fixture
def own_redis():
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _reset_broker_pools(app) -> None:
    # kombu keeps its pools in globals, keyed by the broker URL: close and forget them all.
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_broker(own_redis, settings, monkeypatch):
    """Celery publishes for real (not in-process) to the test's own Redis."""
    from portal import celery_app

    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    monkeypatch.setenv("CELERY_BROKER_URL", own_redis.url)
    conf = celery_app.conf
    previous = conf.broker_url, conf.task_always_eager
    settings.CELERY_BROKER_URL = own_redis.url
    conf.broker_url, conf.task_always_eager = own_redis.url, False
    _reset_broker_pools(celery_app)
    try:
        yield own_redis
    finally:
        conf.broker_url, conf.task_always_eager = previous
        _reset_broker_pools(celery_app)


@pytest.fixture(autouse=True)
def _forget_published_forms():
    """A rolled-back test's forms must not be served from memory to the next test."""
    from leads.capture.selectors import forget_published_forms

    forget_published_forms()
    yield
    forget_published_forms()


@pytest.fixture(autouse=True)
def _empty_cache():
    """The local-memory cache lives as long as the process: figures the dashboard kept in one
    test (a rolled-back database) must not be shown to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
