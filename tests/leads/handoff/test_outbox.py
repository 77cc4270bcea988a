"""The waker: a request's commit flags the handoff, a thread of the process publishes it."""

import threading
import time

import pytest
from kombu.exceptions import OperationalError as BrokerError

from leads.handoff import outbox
from portal import celery_app


class CountingTask:
    """Stands in for a Celery task: records when each publish happened."""

    name = "test.counting"
    app = celery_app

    def __init__(self, fail: bool = False) -> None:
        self.published_at: list[float] = []
        self.fail = fail
        self.lock = threading.Lock()

    def apply_async(self, args, retry):
        time.sleep(0.002)  # a broker round trip
        with self.lock:
            self.published_at.append(time.monotonic())
        if self.fail:
            raise BrokerError("broker down")


@pytest.fixture
def not_eager():
    previous, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, False
    yield
    celery_app.conf.task_always_eager = previous


def wait_until(condition, seconds=2.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_burst_of_flags_becomes_a_few_messages_the_last_after_the_last_flag(not_eager):
    task = CountingTask()
    for _ in range(200):
        outbox.wake(task)
        time.sleep(0.0005)
    last_flag = time.monotonic()

    wait_until(lambda: task.published_at and task.published_at[-1] > last_flag)
    time.sleep(3 * outbox.COALESCE_SECONDS)
    # About 0.1 s of flags, one message per coalescing window: far fewer than 200.
    assert 1 <= len(task.published_at) <= 12


def test_the_request_does_not_wait_for_the_broker(not_eager):
    class SlowTask(CountingTask):
        def apply_async(self, args, retry):
            time.sleep(0.2)
            super().apply_async(args, retry)

    task = SlowTask()
    started = time.monotonic()
    for _ in range(5):
        outbox.wake(task)
    assert time.monotonic() - started < 0.05
    wait_until(lambda: task.published_at)


def test_a_failed_publish_is_logged_and_the_next_flag_is_published_again(not_eager, caplog):
    task = CountingTask(fail=True)
    outbox.wake(task)
    wait_until(lambda: len(task.published_at) == 1)
    time.sleep(2 * outbox.COALESCE_SECONDS)
    outbox.wake(task)
    wait_until(lambda: len(task.published_at) == 2)
    wait_until(lambda: "Could not queue test.counting" in caplog.text)


def test_eager_runs_on_the_callers_thread():
    task = CountingTask()
    assert celery_app.conf.task_always_eager
    outbox.wake(task)
    assert len(task.published_at) == 1
