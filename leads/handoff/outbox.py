"""Publishing handoff messages: best effort, never in the way of a request.

The stored row is the outbox (`Submission.qualify_due_at`, `Lead.route_due_at`): a message
only wakes a worker sooner than beat would. Every handoff message goes out through here;
nothing on the request path calls `.delay()` itself.

- `publish` tries once and gives up within the broker timeout (~50 ms, `BROKER_TIMEOUT`);
  a failure is logged and the work waits for beat's next `hand_off`.
- `wake_on_commit` does not publish on the request's thread at all. After the commit it
  flags the task for this process's waker thread, which publishes it. Flags raised while a
  publish is under way, or within `COALESCE_SECONDS` after it, become one message: a message
  drains everything due, so a burst of posts (or an import's chunk) needs one, and the
  request neither waits for Redis nor spends its CPU on the publish. Every flag is followed
  by a publish that starts after it was raised, so no stored work waits for beat unless
  Redis is down. With `CELERY_TASK_ALWAYS_EAGER` (the demo, most tests) the task runs on
  the caller's thread, as before.
"""

import atexit
import logging
import os
import threading
import time

from celery import Task
from django.db import connections, transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)

# How long the waker gathers flags after a publish before it sends the next message. A flag
# after a quiet spell is published at once; under load a lead waits at most this long for
# its message (the worker is draining anyway), and a web process sends at most 10 a second:
# each publish costs about a millisecond of CPU (py-spy: 15% of a post when sent per post).
COALESCE_SECONDS = 0.1


def publish(task: Task, *args) -> bool:
    """Send one message now; False (logged) when the broker does not take it in time."""
    try:
        task.apply_async(args, retry=False)
    except BrokerError as error:
        logger.warning("Could not queue %s%r, beat's next run will: %s", task.name, args, error)
        return False
    return True


def message_waiting(task: Task) -> bool:
    """Whether a message waits, not yet delivered, in `task`'s queue: its run starts later,
    so it will find everything committed before now, and another message would only wake a
    worker to find nothing. Only `hand_off` is sent to the handoff queue (a test says so).

    Without this, a busy worker fell further behind the more it had to do: at 200 posts/s
    five web processes sent it ~40 messages/s, each a run (claims, commits) that found only
    the few leads stored since the previous one. Now the messages wait for the worker, and
    its batches grow instead. One round trip, within the broker timeout; an unknown length
    counts as none waiting, so the message is sent.
    """
    if task.queue is None:  # the default queue, which other tasks may share
        return False
    try:
        with task.app.pool.acquire(block=True) as connection:  # the publishes' own pool
            # Not passive: on Redis a declare only counts (one pipelined LLEN), and an empty
            # queue, which Redis does not keep, is no error.
            queue = connection.default_channel.queue_declare(queue=task.queue)
    except Exception:  # any broker trouble: publish, which logs it
        return False
    return queue.message_count > 0


class _WakeOnCommit:
    """One wake waiting for the commit of the transaction that asked for it."""

    def __init__(self, task: Task) -> None:
        self.task, self.done = task, False

    def __call__(self) -> None:
        self.done = True
        wake(self.task)

    def waits_for(self, task: Task) -> bool:
        return not self.done and self.task.name == task.name


def wake_on_commit(task: Task) -> None:
    """Have `task` (no arguments) published once after the current transaction commits,
    however often it is asked within it: an import's chunk stores 100 submissions in one
    transaction, and with the tasks eager (the demo) each ask would run the task.

    The pending callbacks are looked up rather than remembered in a flag: Django drops the
    callbacks of a rolled-back transaction or savepoint, so a wake asked for inside a
    savepoint that then failed is gone, and the next ask makes a new one.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:  # autocommit: what asked is committed already
        wake(task)
        return
    if any(
        isinstance(entry[1], _WakeOnCommit) and entry[1].waits_for(task)
        for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_WakeOnCommit(task))


def wake(task: Task) -> None:
    if task.app.conf.task_always_eager:
        publish(task)
    else:
        _waker.flag(task)


class _Waker:
    """One daemon thread per process that publishes the flagged tasks, coalesced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flagged: dict[str, Task] = {}
        self._event = threading.Event()
        self._running = False  # whether this process's thread runs (a forked child has none)

    def after_fork(self) -> None:
        """The child starts its own thread when it first flags, with a lock nobody holds."""
        self._lock, self._running = threading.Lock(), False

    def flag(self, task: Task) -> None:
        with self._lock:
            self._flagged[task.name] = task
            if not self._running:  # first use in this process (also after a fork)
                self._running = True
                self._event = threading.Event()
                threading.Thread(target=self._run, name="handoff-waker", daemon=True).start()
            if not self._event.is_set():  # a post under load finds it set: skip the notify
                self._event.set()

    def flush(self) -> int:
        """Publish what is flagged now, on the caller's thread; how many were sent."""
        with self._lock:
            tasks, self._flagged = list(self._flagged.values()), {}
            self._event.clear()
        # Never run a task here: with the tasks eager (switched on since the flag; tests do),
        # "publishing" would run it on this thread, with a database connection of its own that
        # nothing closes. The work is stored; an eager `wake` runs it on its caller's thread.
        tasks = [task for task in tasks if not task.app.conf.task_always_eager]
        return sum(publish(task) for task in tasks if not message_waiting(task))

    def _run(self) -> None:
        event = self._event
        while True:
            event.wait()
            try:
                self.flush()
            except Exception:  # never let the thread die: beat stands behind a lost message
                logger.exception("The handoff waker could not publish.")
            finally:
                connections.close_all()  # this thread's own, should a task have run here
            time.sleep(COALESCE_SECONDS)


_waker = _Waker()
os.register_at_fork(after_in_child=_waker.after_fork)
# A web process that stops between a commit and its publish still sends it.
atexit.register(_waker.flush)
