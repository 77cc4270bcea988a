"""Test settings: the real PostgreSQL and Redis on 127.0.0.1 when they answer.

DATABASE_URL and CELERY_BROKER_URL, when set, win. Otherwise the suite looks for the
services on their usual ports and falls back to SQLite and in-process tasks, and the tests
marked `postgres` or `redis` skip, saying which service was missing.
"""

import os
import socket


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/leadbridge"
if "CELERY_BROKER_URL" not in os.environ and _answers("127.0.0.1", 6379):
    # Under pytest-xdist each process gets a Redis database of its own (gw0 15, gw1 14, …),
    # so a real worker started by one test never takes another process's messages.
    # TEST_REDIS_DB_TOP moves that block down, for two checkouts' suites at once on one Redis.
    _worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    _top = int(os.environ.get("TEST_REDIS_DB_TOP", "15"))
    os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:6379/{(_top - _worker) % 16}"

from portal.settings import *  # noqa: E402, F403

# Tests run tasks in-process unless a test hands them to a real worker on purpose.
CELERY_TASK_ALWAYS_EAGER = True
# In-process, an e-mail's follow-up after a user's quiet would run at once: every change is
# e-mailed at once unless a test turns the quiet on (tests/portal/notifications).
LEADBRIDGE_EMAIL_QUIET_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")  # noqa: F405
USING_REDIS = bool(CELERY_BROKER_URL)  # noqa: F405
if USING_POSTGRES:
    # One test database per run, so two checkouts can run the suite on one server at once:
    # named after the process that runs the suite, xdist's controller when it has processes
    # (which migrate one database between them, tests/conftest.py, each adding its _gw<n>).
    _run = os.getppid() if "PYTEST_XDIST_WORKER" in os.environ else os.getpid()
    DATABASES["default"]["TEST"] = {"NAME": f"test_leadbridge_{_run}"}  # noqa: F405
# The spam defence's rate limits and fill time are off unless a test turns them on: the suite
# posts hundreds of times from one address, within milliseconds of drawing a form.
RATE_LIMIT_REDIS_URL = ""
SPAM_MIN_FILL_SECONDS = 0
