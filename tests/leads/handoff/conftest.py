import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[3]


def start_worker(
    broker_url: str, log: Path, *, pool: str = "solo", concurrency: int = 1, **env_extra: str
) -> subprocess.Popen:
    """A real `celery worker` process on the test database and the given Redis, listening on
    the handoff queue, in a session of its own (so a test can kill it with its children)."""
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        **env_extra,
    }
    with log.open("a") as output:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", pool,
             "--concurrency", str(concurrency), "--queues", settings.CELERY_HANDOFF_QUEUE,
             "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def worker(own_broker, tmp_path):
    """A real worker on the test's own Redis. Yields the path of its log."""
    log = tmp_path / "worker.log"
    process = start_worker(own_broker.url, log)
    try:
        yield log
    finally:
        stop_worker(process)


def wait_for(predicate, *, seconds: float, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"Timed out after {seconds} s. Worker log:\n{log.read_text()}")
