"""The waker: a request's commit flags the handoff, a thread of the process publishes it."""

import os
import threading
import time

import pytest
import redis
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from leads.handoff import outbox, tasks
from portal import celery_app


class CountingTask:
    """Stands in for a Celery task: records when each publish happened."""

    name = "test.counting"
    app = celery_app
    queue = None  # no queue of its own: never asks the broker what waits

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


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_publishes_through_a_waker_thread_of_its_own(not_eager, tmp_path):
    published = tmp_path / "published"

    class FileTask(CountingTask):  # a child's publish, seen by the parent
        def apply_async(self, args, retry):
            with published.open("a") as file:
                file.write(f"{os.getpid()}\n")

    task = FileTask()
    outbox.wake(task)  # the parent's thread runs
    wait_until(lambda: published.exists())
    pid = os.fork()
    if pid == 0:  # the child: the parent's thread was not forked with it
        code = 1
        try:
            outbox.wake(task)
            wait_until(lambda: str(os.getpid()) in published.read_text().split())
            code = 0
        except AssertionError:
            code = 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert str(pid) in published.read_text().split()


def test_no_message_is_sent_while_one_waits_undelivered(own_broker):
    # No worker consumes: the first message waits, and later wakes find it there.
    handoff = redis.Redis.from_url(own_broker.url)
    queue = tasks.hand_off.queue
    outbox.wake(tasks.hand_off)
    wait_until(lambda: handoff.llen(queue) == 1)
    for _ in range(3):
        time.sleep(2 * outbox.COALESCE_SECONDS)
        outbox.wake(tasks.hand_off)
    time.sleep(3 * outbox.COALESCE_SECONDS)
    assert handoff.llen(queue) == 1
    handoff.delete(queue)  # taken by a worker: the next wake sends one again
    outbox.wake(tasks.hand_off)
    wait_until(lambda: handoff.llen(queue) == 1)


def test_only_tasks_that_drain_what_is_due_are_sent_to_the_handoff_queue():
    # The outbox skips a publish while any message waits in the handoff queue: that holds
    # only while every task there drains what is due when it runs, as hand_off, the pool
    # release and the runs' sweeper do (tests/leads/handoff/test_hand_off.py); Celery's own
    # tasks are never sent.
    celery_app.loader.import_default_modules()  # every app's tasks, as a worker has them
    default = celery_app.conf.task_default_queue
    on_handoff = {
        name
        for name, task in celery_app.tasks.items()
        if not name.startswith("celery.") and (task.queue or default) == tasks.hand_off.queue
    }
    assert on_handoff == {
        tasks.hand_off.name,
        tasks.release_pools.name,
        tasks.resume_stalled_runs.name,
    }


def test_eager_runs_on_the_callers_thread():
    task = CountingTask()
    assert celery_app.conf.task_always_eager
    outbox.wake(task)
    assert len(task.published_at) == 1


# One wake per transaction, however many submissions it stores; a wake asked for inside a
# savepoint that rolled back is gone, and the next ask makes a new one.


class Boom(Exception):
    pass


@pytest.fixture
def woken(monkeypatch):
    names = []
    monkeypatch.setattr(outbox, "wake", lambda task: names.append(task.name))
    return names


@pytest.mark.django_db
def test_many_asks_in_one_transaction_wake_once(woken, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(100):
            outbox.wake_on_commit(tasks.hand_off)

    assert woken == [tasks.hand_off.name]


@pytest.mark.django_db
def test_a_wake_asked_in_a_rolled_back_savepoint_is_asked_again(
    woken, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Boom), transaction.atomic():
            outbox.wake_on_commit(tasks.hand_off)
            raise Boom
        outbox.wake_on_commit(tasks.hand_off)
        outbox.wake_on_commit(tasks.hand_off)

    assert woken == [tasks.hand_off.name]


@pytest.mark.django_db
def test_a_wake_asked_in_a_released_savepoint_still_counts(
    woken, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            outbox.wake_on_commit(tasks.hand_off)
        with transaction.atomic():
            outbox.wake_on_commit(tasks.hand_off)

    assert woken == [tasks.hand_off.name]


@pytest.mark.django_db
def test_each_transaction_wakes_its_own(woken, django_capture_on_commit_callbacks):
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            outbox.wake_on_commit(tasks.hand_off)

    assert woken == [tasks.hand_off.name, tasks.hand_off.name]


def test_a_flag_left_when_the_tasks_turn_eager_is_not_run_on_the_waker_thread():
    task = CountingTask()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with outbox._waker._lock:  # flagged, not yet flushed (as a commit just before...)
            outbox._waker._flagged[task.name] = task
        celery_app.conf.task_always_eager = True  # ...a test's broker fixture turns eager on
        assert outbox._waker.flush() == 0
        assert task.published_at == []  # eager "publishing" would have run it right here
    finally:
        celery_app.conf.task_always_eager = previous
