"""Redis SIGKILLed and started again, ten times, under a worker holding handoff messages.

A real worker (prefork, 2 processes, as in production) on the test database and a Redis of
the test's own, while posts arrive through the JSON API. Each time the worker holds a
delivered, unacknowledged `hand_off` (HANDOFF_PACE_SECONDS=1 makes each run hold its message
about a second), Redis is killed with SIGKILL and started again, empty, DOWN_SECONDS later.
Every lead must then be routed exactly once within SETTLE_SECONDS of the last restart, by
the same worker process: before the fix in portal/kombu_fix.py it exited on the first or
second kill with "Unrecoverable error: AttributeError(\"'NoneType' object has no attribute
'hostname'\")" (issue 18). After the last restart the test plays beat (every SWEEP_EVERY
seconds): what was stored while Redis was down had its message lost with it.
"""

import threading
import time

import pytest
import redis
from django.conf import settings
from django.db.models import Count
from django.urls import reverse

from leads.handoff import outbox
from leads.handoff.tasks import hand_off
from leads.models import Lead, LeadEvent, Stage
from leads.routing.models import Assignment
from portal.accounts.roles import Role
from portal.health.heartbeats import queue_workers
from tests.conftest import needs_redis_server
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps
from tests.leads.handoff.conftest import start_worker, stop_worker, wait_for

pytestmark = [
    pytest.mark.postgres,
    needs_redis_server,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

KILLS = 10
DOWN_SECONDS = 1.5  # the worker's first reconnect comes 2 s after it lost Redis
RESERVED_WITHIN = 10  # seconds to wait for the worker to hold a message before a kill
SETTLE_SECONDS = 60
POST_EVERY = 0.05  # at most 20 posts a second, fewer on a busy machine
SWEEP_EVERY = 2  # SWEEP_EVERY_SECONDS, as the test plays beat


class Killer(threading.Thread):
    """Kills Redis whenever the worker holds an unacknowledged message, KILLS times."""

    def __init__(self, own_redis):
        super().__init__(name="redis-killer", daemon=True)
        self.own_redis = own_redis
        self.kills_while_reserved = 0
        self.last_restart = None
        self.error = None
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            for _ in range(KILLS):
                if self.stopped.is_set():
                    return
                self.kills_while_reserved += self._wait_for_a_reserved_message()
                self.own_redis.stop()  # SIGKILL
                time.sleep(DOWN_SECONDS)
                self.own_redis.start()
                self.last_restart = time.monotonic()
        except Exception as error:  # the test says so, rather than hanging
            self.error = error

    def _wait_for_a_reserved_message(self) -> bool:
        client = redis.Redis.from_url(self.own_redis.url, socket_timeout=1)
        deadline = time.monotonic() + RESERVED_WITHIN
        try:
            while time.monotonic() < deadline and not self.stopped.is_set():
                try:
                    if client.hlen("unacked"):
                        return True
                except redis.RedisError:
                    pass
                time.sleep(0.02)
            return False
        finally:
            client.close()


def test_a_worker_routes_every_lead_once_while_redis_is_killed_ten_times(
    client, own_broker, tmp_path
):
    form = FormFactory()
    AgreementFactory()
    queue_with_reps(*(UserFactory(role=Role.SALES_REP) for _ in range(3)), name="Everyone")
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    log = tmp_path / "worker.log"
    worker = start_worker(
        own_broker.url, log, pool="prefork", concurrency=2, HANDOFF_PACE_SECONDS="1"
    )
    killer = Killer(own_broker)
    try:
        posted = 0

        def post() -> None:
            nonlocal posted
            body = {"email": f"lead-{posted}@acme.example", "company_size": "120"}
            response = client.post(url, body, content_type="application/json")
            assert response.status_code == 201, response.content
            posted += 1

        post()
        wait_for(lambda: Lead.objects.filter(stage=Stage.ROUTED).exists(), seconds=30, log=log)
        killer.start()
        while killer.is_alive():
            post()
            if worker.poll() is not None:
                killer.stopped.set()
                pytest.fail(f"The worker exited. Its log:\n{log.read_text()}")
            time.sleep(POST_EVERY)
        assert killer.error is None, killer.error
        for _ in range(10):  # and a few after the last restart
            post()
            time.sleep(POST_EVERY)

        swept_at = float("-inf")

        def all_routed() -> bool:
            nonlocal swept_at
            if time.monotonic() - swept_at >= SWEEP_EVERY:  # beat, for what was stored while
                outbox.publish(hand_off)  # Redis was down: its messages went with it
                swept_at = time.monotonic()
            return Lead.objects.filter(stage=Stage.ROUTED).count() == posted

        settle = SETTLE_SECONDS - (time.monotonic() - killer.last_restart)
        wait_for(all_routed, seconds=settle, log=log)
        assert worker.poll() is None, f"The worker exited. Its log:\n{log.read_text()}"
    finally:
        killer.stopped.set()
        if killer.ident is not None:
            killer.join(timeout=30)
        stop_worker(worker)

    assert killer.kills_while_reserved >= KILLS // 2, "the worker held no message at most kills"
    assert "Unrecoverable error" not in log.read_text()
    assert Lead.objects.count() == posted
    per_lead = Assignment.objects.values("lead").annotate(n=Count("pk"))
    assert sorted(row["n"] for row in per_lead) == [1] * posted
    assert LeadEvent.objects.filter(kind=LeadEvent.Kind.ASSIGNED).count() == posted
    (handoff,) = queue_workers([settings.CELERY_HANDOFF_QUEUE])
    assert handoff.seconds_ago is not None and handoff.seconds_ago < SETTLE_SECONDS
