"""Rate limits on the public intake, per client IP and per form, counted in Redis.

A fixed window per minute: one script counts every key of a post (INCR, and EXPIRE on a new
key) in one command. It replaced a pipeline of INCR and EXPIRE per key, whose four commands
and four replies cost the post more CPU in redis-py than the check itself (py-spy). Each
thread keeps one redis-py `Connection` of its own and sends the command on it: the client's
pool, retry wrapper and reply callbacks, which a post would pass through for this one
command, cost three times the command itself (py-spy). Redis is never a dependency of
intake: the connection gives up after `RATE_LIMIT_TIMEOUT` (50 ms, like the Celery
publish), and when Redis is down or slow the post is let through and a warning is logged
(fail open). After a failure the limiter leaves Redis alone for `RATE_LIMIT_BACKOFF_SECONDS`,
so an outage costs one timeout now and then, not one per post.
"""

import hashlib
import logging
import math
import threading
import time
from dataclasses import dataclass

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

_local = threading.local()  # this thread's connection, and what it was made for
_connections: list[redis.Connection] = []  # every thread's, for `reset`
_connections_lock = threading.Lock()
_generation = 0  # `reset` counts up: a thread's connection made before is not used again
_skip_until = 0.0


@dataclass(frozen=True)
class Limit:
    scope: str  # "ip" or "form"
    subject: str
    per_minute: int


def check_rate_limit(request: HttpRequest, form: Form | None) -> None:
    """Raise RateLimited (429, Retry-After) when this IP or this form is over its limit.

    `form` None: the post names no form we have (an unknown slug, GUID or `oid`); it counts
    against its IP all the same, so a flood of made-up ids meets the per-IP limit too.
    """
    url = settings.RATE_LIMIT_REDIS_URL
    if not url:
        return
    limits = []
    if form is not None:
        limits.append(Limit("form", str(form.pk), settings.RATE_LIMIT_PER_FORM_PER_MINUTE))
    ip = client_ip(request)
    if ip:
        limits.insert(0, Limit("ip", ip, settings.RATE_LIMIT_PER_IP_PER_MINUTE))
    retry_after = _over_limit(url, [limit for limit in limits if limit.per_minute > 0])
    if retry_after is not None:
        raise RateLimited(
            f"Too many posts; please try again in {retry_after} seconds.",
            retry_after_seconds=retry_after,
        )


def _over_limit(url: str, limits: list[Limit]) -> int | None:
    """Seconds until the window ends when any limit is passed; None when all are within."""
    global _skip_until
    if not limits or time.monotonic() < _skip_until:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    keys = [f"{KEY_PREFIX}:{limit.scope}:{limit.subject}:{window}" for limit in limits]
    try:
        counts = _count(_connection(url), keys)
    except (redis.RedisError, OSError) as error:
        _skip_until = time.monotonic() + settings.RATE_LIMIT_BACKOFF_SECONDS
        logger.warning("Rate limit not checked, post let through (Redis: %s)", error)
        return None
    for limit, count in zip(limits, counts, strict=True):
        if count > limit.per_minute:
            logger.info(
                "Rate limit: %s %s over %s/min", limit.scope, limit.subject, limit.per_minute
            )
            return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return None


# Each key counted, and given its expiry when the window's first post made it.
COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return counts
"""
COUNT_SHA = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


def _count(connection: redis.Connection, keys: list[str]) -> list[int]:
    """The keys' counts after this post: EVALSHA, and EVAL once Redis has forgotten the script
    (a restart, SCRIPT FLUSH), which loads it again. A connection that failed is closed by
    redis-py and opened again by the next command."""
    try:
        connection.send_command("EVALSHA", COUNT_SHA, len(keys), *keys, WINDOW_SECONDS + 1)
        return connection.read_response()
    except redis.exceptions.NoScriptError:
        connection.send_command("EVAL", COUNT_SCRIPT, len(keys), *keys, WINDOW_SECONDS + 1)
        return connection.read_response()


def _connection(url: str) -> redis.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None or _local.made_for != (url, _generation):
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
        connection = pool.make_connection()  # the URL's settings, without the pool
        _local.connection, _local.made_for = connection, (url, _generation)
        with _connections_lock:
            _connections.append(connection)
    return connection


def reset() -> None:
    """Forget connections and the back-off (tests point the limiter at their own Redis)."""
    global _skip_until, _generation
    with _connections_lock:
        for connection in _connections:
            connection.disconnect()
        _connections.clear()
        _generation += 1
    _skip_until = 0.0
