"""Rate limits on the public intake, per client IP and per form, in one-minute windows.

The request path never talks to Redis. It once sent one script call per post (INCR and
EXPIRE per key) and waited for the reply: ~5% of the web worker's CPU per post (py-spy),
Redis's own CPU besides, and a round trip (up to `RATE_LIMIT_TIMEOUT`) on every post. Now
each process counts its posts per key and window in memory, and a daemon thread of its own
sends the increments to Redis every `RATE_LIMIT_FLUSH_SECONDS` in one script call (INCRBY
each key, EXPIRE a new one), which returns every key's total. A post is over its limit when
the total from the last flush plus this process's posts not yet in it pass the limit.

Only posts the limits let through are counted: a post refused by one limit counts against
none, so posts an IP sends over its own limit never fill the form's (one source cannot shut a
form for everyone; the per-IP limit must be well below the per-form one, see checks.py).

Within one process a limit is exact; across processes a post does not see what the others
counted since the last flush. So the overshoot stays bounded, each process admits at most its
share of what is left of a key's limit before its next flush: (limit - total) / processes,
at least one post, where processes is how many flushed in the last window (the flush also
says so). A post past that share is refused (429, Retry-After 1) and wakes the thread to
flush at once, so the next post sees the new total. All processes together thus admit at most
what is left, plus up to one post each near the limit and what a stale total hides; measured
with four processes (tests/leads/capture/test_rate_limit_processes.py) a per-IP limit of 20
admits at most 20 + 4 posts. The thread runs only when there is something to send, and is
started again in a forked child.

When Redis is down or slow (a flush gives up after `RATE_LIMIT_TIMEOUT`) a warning is logged,
Redis is left alone for `RATE_LIMIT_BACKOFF_SECONDS`, and the unsent increments wait for the
next flush; meanwhile each process still limits on its own counts.
Counts of a window that has ended are dropped, sent or not, so memory follows the keys of
the current minute.
"""

import hashlib
import logging
import math
import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.http import HttpRequest
from redis.backoff import NoBackoff
from redis.retry import Retry

from leads.capture.models import Form
from portal.errors import RateLimited
from portal.net import client_ip

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
KEY_PREFIX = "leadbridge:ratelimit"
# Outside KEY_PREFIX: the processes that flushed in the last window, by id and time.
PROCESSES_KEY = "leadbridge:ratelimit-processes"


@dataclass(frozen=True)
class Limit:
    scope: str  # "ip" or "form"
    subject: str
    per_minute: int


@dataclass
class Count:
    """One key's count in this process."""

    known: int = 0  # the total in Redis after the last flush: every process's posts
    sending: int = 0  # this process's, in the flush under way
    pending: int = 0  # this process's, not sent yet

    @property
    def total(self) -> int:
        return self.known + self.sending + self.pending

    def admits(self, most: int, processes: int) -> bool | None:
        """True: within the limit and this process's share of what is left; False: over the
        limit; None: past this process's share until its next flush tells it the total."""
        if self.total + 1 > most:
            return False
        # Alone, a process knows every count. With others, what it knows of theirs may be a
        # flush old, and so may theirs of its: each takes half an equal share.
        share = max(1, (most - self.known) // (processes if processes == 1 else 2 * processes))
        return True if self.sending + self.pending + 1 <= share else None


# Each key increased by this process's posts, and given its expiry when these made it; the
# last key is the set of processes, where this one says it is alive, and how many are.
FLUSH_SCRIPT = """
local totals = {}
local processes = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local added = tonumber(ARGV[i + 3])
  totals[i] = redis.call('INCRBY', KEYS[i], added)
  if totals[i] == added then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
end
redis.call('ZADD', processes, ARGV[2], ARGV[3])
redis.call('ZREMRANGEBYSCORE', processes, '-inf', tonumber(ARGV[2]) - tonumber(ARGV[1]))
redis.call('EXPIRE', processes, ARGV[1])
totals[#KEYS] = redis.call('ZCARD', processes)
return totals
"""
FLUSH_SHA = hashlib.sha1(FLUSH_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


@dataclass
class Limiter:
    """One process's counts, and the thread that shares them through Redis."""

    windows: dict[int, dict[str, Count]] = field(default_factory=dict)
    # Held only to read or change the counts, never across a call to Redis.
    lock: threading.Lock = field(default_factory=threading.Lock)
    # One flush at a time, so replies are applied in the order they were asked.
    flush_lock: threading.Lock = field(default_factory=threading.Lock)
    event: threading.Event = field(default_factory=threading.Event)
    urgent: threading.Event = field(default_factory=threading.Event)  # flush without waiting
    processes: int = 1  # how many processes flushed in the last window, as the last flush said
    name: str = field(default_factory=lambda: uuid.uuid4().hex)  # this process, in PROCESSES_KEY
    running: bool = False  # whether this process's thread runs (a forked child has none)
    generation: int = 0  # `reset` counts up: a flush begun before it changes nothing
    skip_until: float = 0.0
    connection: redis.Connection | None = None
    made_for: tuple | None = None

    def admit(self, keys: list[str], maxima: list[int], window: int) -> tuple[int, bool] | None:
        """Count one post against every key, if each admits it; None then. Otherwise nothing is
        counted, and the answer is the first key that refused it, and whether it is over its
        limit (True) or only past this process's share until the next flush (False)."""
        with self.lock:
            self._wake()
            counts = self.windows.setdefault(window, {})
            entries = [counts.setdefault(key, Count()) for key in keys]
            for position, (count, most) in enumerate(zip(entries, maxima, strict=True)):
                verdict = count.admits(most, self.processes)
                if not verdict:
                    if verdict is None:  # sync sooner: the next post should see the total
                        self.urgent.set()
                    return position, verdict is False
            for count in entries:
                count.pending += 1
            if not self.event.is_set():  # under load it is: no notify per post
                self.event.set()
        return None

    def _wake(self) -> None:
        # A flag, not os.getpid() per post: a system call, on a CPU the workers share, is
        # where the kernel switches to another process (py-spy: 1% of a post).
        if not self.running:  # first post in this process (also after a fork)
            self.running = True
            self.event = threading.Event()
            threading.Thread(
                target=self._run, args=(self.event,), name="ratelimit-flush", daemon=True
            ).start()

    def _forget_before(self, window: int) -> None:
        for old in [old for old in self.windows if old < window]:
            del self.windows[old]

    def flush(self) -> int:
        """Send the pending increments and remember the totals; how many keys were sent."""
        with self.flush_lock:
            url = settings.RATE_LIMIT_REDIS_URL
            with self.lock:
                self._forget_before(int(time.time() // WINDOW_SECONDS))
                if not url:  # no limits any more: nothing to count against
                    self.windows.clear()
                if time.monotonic() < self.skip_until:
                    return 0
                batch = self._take_pending()
                self.event.clear()
                generation = self.generation
            if not batch:
                return 0
            keys, added = list(batch), [count.sending for count in batch.values()]
            try:
                *totals, processes = self._send(url, keys, added)
            except (redis.RedisError, OSError) as error:
                self._give_back(batch, generation, back_off=True)
                logger.warning(
                    "Rate limits counted per process only, counts not shared (Redis: %s)", error
                )
                return 0
            except Exception:
                self._give_back(batch, generation, back_off=False)
                raise
            with self.lock:
                if generation == self.generation:
                    self.processes = max(1, processes)
                    for count, total in zip(batch.values(), totals, strict=True):
                        # A window's totals only grow: a reply that left this process's
                        # thread before another's came back is not the newer one.
                        count.known, count.sending = max(count.known, total), 0
            return len(keys)

    def _take_pending(self) -> dict[str, Count]:
        batch = {}
        for counts in self.windows.values():
            for key, count in counts.items():
                if count.pending:
                    count.sending, count.pending = count.pending, 0
                    batch[key] = count
        return batch

    def _give_back(self, batch: dict[str, Count], generation: int, *, back_off: bool) -> None:
        """Keep a failed flush's increments for the next one (after the back-off, when Redis
        failed)."""
        with self.lock:
            if generation != self.generation:
                return
            for count in batch.values():
                count.pending, count.sending = count.pending + count.sending, 0
            self.event.set()  # the thread tries again
            if back_off:
                self.skip_until = time.monotonic() + settings.RATE_LIMIT_BACKOFF_SECONDS

    def _send(self, url: str, keys: list[str], added: list[int]) -> list[int]:
        """The keys' totals: EVALSHA, and EVAL once Redis has forgotten the script (a restart,
        SCRIPT FLUSH), which loads it again. A connection that failed is closed by redis-py
        and opened again by the next command."""
        connection = self._connection(url)
        args = (
            len(keys) + 1,
            *keys,
            PROCESSES_KEY,
            WINDOW_SECONDS + 1,
            f"{time.time():.3f}",
            self.name,
            *added,
        )
        try:
            connection.send_command("EVALSHA", FLUSH_SHA, *args)
            return connection.read_response()
        except redis.exceptions.NoScriptError:
            connection.send_command("EVAL", FLUSH_SCRIPT, *args)
            return connection.read_response()

    def _connection(self, url: str) -> redis.Connection:
        made_for = (url, self.generation, os.getpid())  # never the socket of a parent process
        if self.connection is None or self.made_for != made_for:
            timeout = settings.RATE_LIMIT_TIMEOUT
            pool = redis.ConnectionPool.from_url(
                url,
                socket_connect_timeout=timeout,
                socket_timeout=timeout,
                # redis-py retries three times by default: each would wait again.
                retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False,
                health_check_interval=0,
            )
            self.connection = pool.make_connection()  # the URL's settings, without the pool
            self.made_for = made_for
        return self.connection

    def _run(self, event: threading.Event) -> None:
        while True:
            event.wait()
            try:
                self.flush()
            except Exception:  # never let the thread die: the next post would not be shared
                logger.exception("The rate limiter could not flush its counts.")
            # A post past its process's share cuts the wait short (Limiter.admit).
            self.urgent.wait(settings.RATE_LIMIT_FLUSH_SECONDS)
            self.urgent.clear()

    def reset(self) -> None:
        with self.flush_lock, self.lock:  # not while a flush uses the connection
            self.windows.clear()
            self.generation += 1
            self.skip_until = 0.0
            self.processes = 1
            if self.connection is not None and self.made_for[2] == os.getpid():
                self.connection.disconnect()
            self.connection = None

    def after_fork(self) -> None:
        """The child's counts start empty (the parent sends its own), with locks nobody
        holds: a fork can happen while another thread of the parent holds one."""
        self.lock, self.flush_lock = threading.Lock(), threading.Lock()
        self.urgent = threading.Event()
        self.name = uuid.uuid4().hex  # another process
        self.windows = {}
        self.generation += 1
        self.running = False  # the parent's thread was not forked with it


_limiter = Limiter()
os.register_at_fork(after_in_child=_limiter.after_fork)


def check_rate_limit(request: HttpRequest, form: Form | None, *, ip: str | None = None) -> None:
    """Raise RateLimited (429, Retry-After) when this IP or this form is over its limit.

    `form` None: the post names no form we have (an unknown slug, GUID or `oid`); it counts
    against its IP all the same, so a flood of made-up ids meets the per-IP limit too.
    `ip`: the visitor's address as a trusted relay names it, instead of the connection's.
    """
    if not settings.RATE_LIMIT_REDIS_URL:
        return
    limits = []
    if form is not None:
        limits.append(Limit("form", str(form.pk), settings.RATE_LIMIT_PER_FORM_PER_MINUTE))
    ip = ip or client_ip(request)
    if ip:
        limits.insert(0, Limit("ip", ip, settings.RATE_LIMIT_PER_IP_PER_MINUTE))
    retry_after = limits_passed([limit for limit in limits if limit.per_minute > 0])
    if retry_after is not None:
        raise RateLimited(
            f"Too many posts; please try again in {retry_after} seconds.",
            retry_after_seconds=retry_after,
        )


def limits_passed(limits: list[Limit]) -> int | None:
    """Count a request against each of `limits` if all admit it: None then; else the seconds
    to wait (the REST API's throttle counts its requests here too)."""
    if not settings.RATE_LIMIT_REDIS_URL:
        return None
    if not limits:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    keys = [f"{KEY_PREFIX}:{limit.scope}:{limit.subject}:{window}" for limit in limits]
    refused = _limiter.admit(keys, [limit.per_minute for limit in limits], window)
    if refused is None:
        return None
    position, over = refused
    limit = limits[position]
    if not over:  # past this process's share: the next flush, a moment away, says more
        return 1
    logger.info("Rate limit: %s %s over %s/min", limit.scope, limit.subject, limit.per_minute)
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def flush() -> int:
    """Send this process's pending counts to Redis now, on the caller's thread."""
    return _limiter.flush()


def reset() -> None:
    """Forget the counts, the connection and the back-off (tests point the limiter at their
    own Redis)."""
    _limiter.reset()
