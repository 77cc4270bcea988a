"""The rate limits across real processes, as gunicorn's workers share them through a Redis of
the test's own: how far past its limit one IP gets, and that it never shuts a form."""

import multiprocessing
import os
import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.test import RequestFactory
from redis import Redis

from leads.capture.intake import ratelimit
from leads.capture.models import Form
from portal.errors import RateLimited
from tests.conftest import needs_redis_server

pytestmark = [
    needs_redis_server,
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]

PROCESSES = 4
PER_IP = 20
PER_FORM = 600
# What one IP may get past its limit with four processes (ratelimit.py says why).
OVERSHOOT = PROCESSES
# A post's own work, so a run takes as long as posts over HTTP (the flushes keep up as there).
POST_SECONDS = 0.002
FORM = Form(pk=424242)  # only its pk is read: no database in the workers


def post(ip: str) -> bool:
    time.sleep(POST_SECONDS)
    try:
        ratelimit.check_rate_limit(RequestFactory().post("/", REMOTE_ADDR=ip), FORM)
    except RateLimited:
        return False
    return True


def worker(connection) -> None:
    """A web worker: posts what it is told, answers how many were let through."""
    try:
        while True:
            command, ip, times = connection.recv()
            if command == "stop":
                return
            if command == "sync":  # a post of its own and a flush: it tells Redis it is alive
                post(ip)
                ratelimit.flush()
                connection.send(ratelimit._limiter.processes)
            else:
                connection.send(sum(post(ip) for _ in range(times)))
    finally:
        connection.close()
        os._exit(0)


@pytest.fixture
def one_minute():
    """The posts fall in one window, in every worker (they are forked inside it, clock and
    all): a run that crosses a minute counts from 0 again in the new one, and one IP gets its
    limit and a little twice (46 of 20 + 4 once in CI)."""
    with time_machine.travel(datetime(2026, 12, 4, 14, 0, 1, tzinfo=UTC), tick=True):
        time.time()  # the clock starts here, for the workers too, not at each one's first post
        yield


@pytest.fixture
def workers(one_minute, own_redis, settings):
    settings.RATE_LIMIT_REDIS_URL = own_redis.url
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = PER_IP
    settings.RATE_LIMIT_PER_FORM_PER_MINUTE = PER_FORM
    ratelimit.reset()
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for _ in range(PROCESSES):
        ours, theirs = context.Pipe()
        process = context.Process(target=worker, args=(theirs,), daemon=True)
        process.start()
        pipes.append(ours)
        processes.append(process)
    # As a running server: every worker has flushed, and so knows how many there are.
    for round_ in range(2):
        seen = []
        for number, pipe in enumerate(pipes):
            pipe.send(("sync", f"192.0.2.{10 * round_ + number}", 1))
            seen.append(pipe.recv())
    assert seen == [PROCESSES] * PROCESSES
    try:
        yield pipes
    finally:
        for pipe in pipes:
            pipe.send(("stop", "", 0))
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        ratelimit.reset()


def form_count(redis_url: str) -> int:
    redis = Redis.from_url(redis_url)
    (key,) = redis.keys(f"{ratelimit.KEY_PREFIX}:form:{FORM.pk}:*")
    return int(redis.get(key))


def test_one_ip_posting_in_turn_to_four_processes_gets_at_most_its_limit_and_a_little(
    workers, own_redis
):
    accepted = 0
    for n in range(100):
        pipe = workers[n % PROCESSES]
        pipe.send(("post", "198.51.100.7", 1))
        accepted += pipe.recv()
    assert PER_IP <= accepted <= PER_IP + OVERSHOOT
    assert post("198.51.100.99")  # everyone else still gets in


def test_one_ip_posting_to_four_processes_at_once_gets_at_most_its_limit_and_a_little(
    workers, own_redis
):
    for pipe in workers:
        pipe.send(("post", "198.51.100.7", 50))
    accepted = sum(pipe.recv() for pipe in workers)
    assert PER_IP <= accepted <= PER_IP + OVERSHOOT


def test_posts_an_ip_sends_past_its_limit_never_fill_the_form(workers, own_redis):
    for pipe in workers:
        pipe.send(("post", "198.51.100.7", 200))  # 800 posts from one address, at once
    accepted = sum(pipe.recv() for pipe in workers)
    assert accepted <= PER_IP + OVERSHOOT
    for number, pipe in enumerate(workers):  # flushed: Redis has every worker's count
        pipe.send(("sync", f"203.0.113.{number}", 1))
        pipe.recv()
    assert form_count(own_redis.url) == accepted + 2 * PROCESSES + PROCESSES
    for number, pipe in enumerate(workers):  # another visitor, on any worker, gets in
        pipe.send(("post", f"198.51.100.{100 + number}", 1))
        assert pipe.recv() == 1
