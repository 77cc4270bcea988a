"""The API's rate limit across real processes, as gunicorn's workers share it: counted by
the intake's limiter through a Redis of the test's own, so two workers allow the limit, not
twice it."""

import multiprocessing
import os
import time

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from leads.capture.intake import ratelimit
from portal.integrations.api.throttling import ApiRateThrottle, per_minute
from tests.conftest import needs_redis_server

pytestmark = [
    needs_redis_server,
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

LIMIT = 10


class Token:
    pk = 4242
    read_only = False


def allowed(times: int) -> int:
    """`times` requests with one token through the API's throttle: how many it let through."""
    through = 0
    for _ in range(times):
        request = Request(RequestFactory().get("/api/v1/leads/"))
        request.auth = Token()
        through += ApiRateThrottle().allow_request(request, None)
    return through


def worker(connection) -> None:
    """A web worker: makes the requests it is told, sends its counts, answers how many got
    through."""
    try:
        while True:
            times = connection.recv()
            if times is None:
                return
            through = allowed(times)
            ratelimit.flush()
            connection.send(through)
    finally:
        connection.close()
        os._exit(0)


@pytest.fixture
def two_workers(own_redis, settings):
    settings.RATE_LIMIT_REDIS_URL = own_redis.url
    settings.API_RATE = f"{LIMIT}/minute"
    ratelimit.reset()
    if time.time() % 60 > 50:  # one window for the whole test
        time.sleep(61 - time.time() % 60)
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for _ in range(2):
        ours, theirs = context.Pipe()
        process = context.Process(target=worker, args=(theirs,), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)
    try:
        yield pipes
    finally:
        for pipe in pipes:
            pipe.send(None)
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        ratelimit.reset()


def test_two_processes_share_one_tokens_count(two_workers):
    first, second = two_workers
    first.send(LIMIT + 5)
    assert first.recv() == LIMIT
    # The second has not heard of the first's count before its first flush: one request
    # at most gets past, then it knows the total (a per-process count would allow LIMIT).
    second.send(1)
    past = second.recv()
    second.send(LIMIT)
    assert past + second.recv() <= 1


@pytest.mark.parametrize(
    ("rate", "expected"), [("600/minute", 600), ("10/second", 600), ("1200/hour", 20)]
)
def test_the_rate_is_counted_per_minute(settings, rate, expected):
    settings.API_RATE = rate
    assert per_minute() == expected
