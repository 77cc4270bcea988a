"""Rate limits per client IP and per form: counted in each process, shared through a Redis of
the test's own by a thread; a post never waits for Redis."""

import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.checks import run_checks
from django.test import RequestFactory
from django.urls import reverse
from redis import Redis

from leads.capture.intake import ratelimit
from leads.models import Lead, Submission
from portal.errors import RateLimited
from tests.conftest import needs_redis_server
from tests.error_shape import assert_error_json
from tests.factories import FormFactory

pytestmark = [pytest.mark.django_db, needs_redis_server]

KINDS = ["page", "api", "hubspot", "web_to_lead"]


@pytest.fixture
def limiter(own_redis, settings):
    """The limiter on the test's own Redis: 3 posts a minute per IP, 1000 per form."""
    settings.RATE_LIMIT_REDIS_URL = own_redis.url
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = 3
    settings.RATE_LIMIT_PER_FORM_PER_MINUTE = 1000
    settings.RATE_LIMIT_BACKOFF_SECONDS = 5
    ratelimit.reset()
    yield own_redis
    ratelimit.reset()


@pytest.fixture
def one_minute():
    """The test's posts fall in one window: without it, a test that posts for a few seconds on
    a busy machine now and then crosses a minute and finds the counts started again."""
    with time_machine.travel(datetime(2026, 12, 4, 14, 0, 1, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def form():
    return FormFactory(thank_you_message="Thanks!")


def send(client, form, kind, n=0, ip="198.51.100.7"):
    email = f"ana{n}@acme.example"
    meta = {"REMOTE_ADDR": ip}
    if kind == "page":
        return client.post(reverse("capture:form", args=[form.slug]), {"email": email}, **meta)
    if kind == "api":
        url = reverse("capture:api_submission_create", args=[form.slug])
        return client.post(url, {"email": email}, content_type="application/json", **meta)
    if kind == "hubspot":
        url = reverse("capture:hubspot_submit", kwargs={"portal_id": "1", "guid": form.guid})
        body = {"fields": [{"name": "email", "value": email}]}
        return client.post(url, body, content_type="application/json", **meta)
    url = reverse("capture:web_to_lead") + "?encoding=UTF-8"
    salesforce = {"last_name": "Souza", "company": "Acme"}  # what Salesforce requires
    return client.post(url, {"oid": str(form.guid), "email": email, **salesforce}, **meta)


def assert_retry_after(response) -> int:
    assert response.status_code == 429, response.content
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= ratelimit.WINDOW_SECONDS
    return seconds


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.usefixtures("one_minute")
def test_over_the_limit_per_ip_answers_429_with_retry_after(client, limiter, form, kind):
    for n in range(3):
        assert send(client, form, kind, n).status_code in (200, 201, 302)
    response = send(client, form, kind, 3)
    assert_retry_after(response)
    assert Submission.objects.count() == 3
    if kind == "api":
        errors = assert_error_json(response, 429, "rate_limited")
        assert "try again in" in errors["__all__"][0]["message"]
    elif kind == "hubspot":
        body = response.json()
        assert body["status"] == "error"
        assert body["errors"][0]["errorType"] == "RATE_LIMIT"
    else:
        assert response["Content-Type"].startswith("text/html")
        assert b"Please wait a moment" in response.content
        assert b'role="alert"' in response.content


def send_to_no_form(client, kind, ip="198.51.100.7"):
    """A post naming a form that does not exist: a fresh random GUID (or slug) every time."""
    made_up = uuid.uuid4()
    meta = {"REMOTE_ADDR": ip}
    if kind == "page":
        return client.post(f"/f/no-{made_up}/", {"email": "ana@acme.example"}, **meta)
    if kind == "api":
        url = f"/api/v1/forms/no-{made_up}/submissions/"
        return client.post(url, {"email": "ana@acme.example"}, content_type="application/json",
                           **meta)  # fmt: skip
    if kind == "hubspot":
        url = reverse("capture:hubspot_submit", kwargs={"portal_id": "1", "guid": made_up})
        body = {"fields": [{"name": "email", "value": "ana@acme.example"}]}
        return client.post(url, body, content_type="application/json", **meta)
    url = reverse("capture:web_to_lead") + "?encoding=UTF-8"
    return client.post(url, {"oid": str(made_up), "email": "ana@acme.example"}, **meta)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.usefixtures("one_minute")
def test_a_flood_naming_made_up_forms_is_limited_per_ip(client, limiter, form, kind):
    for _ in range(3):
        assert send_to_no_form(client, kind).status_code == 404
    assert_retry_after(send_to_no_form(client, kind))
    assert_retry_after(send(client, form, kind, 1))  # the IP's limit covers every form
    assert send_to_no_form(client, kind, ip="198.51.100.8").status_code == 404
    assert Submission.objects.count() == 0


@pytest.mark.usefixtures("one_minute")
def test_guessing_secure_hubspot_tokens_is_limited_per_ip(client, limiter, form):
    url = reverse("capture:hubspot_secure_submit", kwargs={"portal_id": "1", "guid": form.guid})
    body = {"fields": [{"name": "email", "value": "ana@acme.example"}]}
    for n in range(3):
        wrong = {"HTTP_AUTHORIZATION": f"Bearer guess-{n}"}
        assert client.post(url, body, content_type="application/json", **wrong).status_code == 401
    response = client.post(url, body, content_type="application/json")
    assert_retry_after(response)
    assert response.json()["errors"][0]["errorType"] == "RATE_LIMIT"


@pytest.mark.usefixtures("one_minute")
def test_web_to_lead_oids_that_are_not_guids_count_too(client, limiter):
    url = reverse("capture:web_to_lead") + "?encoding=UTF-8"
    for n in range(3):
        assert client.post(url, {"oid": f"00D{n}", "email": "a@b.example"}).status_code == 400
    response = client.post(url, {"oid": "00D9", "email": "a@b.example"})
    assert_retry_after(response)
    assert b"Please wait a moment" in response.content


@pytest.mark.usefixtures("one_minute")
def test_the_limit_is_per_ip(client, limiter, form):
    for n in range(3):
        send(client, form, "api", n, ip="198.51.100.7")
    assert send(client, form, "api", 9, ip="198.51.100.7").status_code == 429
    assert send(client, form, "api", 10, ip="198.51.100.8").status_code == 201


@pytest.mark.usefixtures("one_minute")
def test_the_limit_per_form_holds_across_addresses(client, limiter, settings, form):
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = 100
    settings.RATE_LIMIT_PER_FORM_PER_MINUTE = 2
    other = FormFactory()
    assert send(client, form, "api", 1, ip="198.51.100.1").status_code == 201
    assert send(client, form, "page", 2, ip="198.51.100.2").status_code == 302
    assert_retry_after(send(client, form, "hubspot", 3, ip="198.51.100.3"))
    assert send(client, other, "api", 4, ip="198.51.100.4").status_code == 201


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.usefixtures("one_minute")
def test_posts_one_ip_sends_past_its_limit_never_shut_the_form(
    client, limiter, settings, form, kind
):
    settings.RATE_LIMIT_PER_FORM_PER_MINUTE = 10
    for n in range(30):
        send(client, form, kind, n, ip="198.51.100.7")
    assert Submission.objects.count() == 3
    for n in range(7):  # what is left of the form's minute goes to everyone else
        assert send(client, form, kind, 100 + n, ip=f"198.51.100.{10 + n}").status_code in (
            200,
            201,
            302,
        )
    assert_retry_after(send(client, form, kind, 200, ip="198.51.100.99"))

    # The posts let through, no more. A flush that timed out on a busy machine keeps its
    # counts for the next one (after the back-off), so ask again until they are there.
    def form_count():
        ratelimit.flush()
        return counts_in(limiter).get("form")

    assert wait_for(lambda: form_count() == 10, seconds=12), form_count()


def test_showing_the_hosted_form_is_not_counted(client, limiter, form):
    for _ in range(5):
        assert client.get(reverse("capture:form", args=[form.slug])).status_code == 200
    assert send(client, form, "page").status_code == 302


IP = "198.51.100.7"


def wait_for(condition, seconds=5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def counts_in(redis_server) -> dict[str, int]:
    """Every limiter key in Redis, by scope and subject (the window left off), and its count."""
    redis = Redis.from_url(redis_server.url)
    keys = redis.keys(f"{ratelimit.KEY_PREFIX}:*")
    return {key.decode().rsplit(":", 3)[1]: int(redis.get(key)) for key in keys}


def check(form=None, ip=IP):
    ratelimit.check_rate_limit(RequestFactory().post("/", REMOTE_ADDR=ip), form)


def _elapsed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


@pytest.fixture
def second_process():
    """Run a block as another process would: with counts and a flush thread of its own."""
    other = ratelimit.Limiter()

    @contextmanager
    def as_other():
        first, ratelimit._limiter = ratelimit._limiter, other
        try:
            yield
        finally:
            ratelimit._limiter = first

    return as_other


def test_posts_never_wait_for_redis_and_the_thread_shares_their_counts(
    client, limiter, form, monkeypatch
):
    callers = []
    send_to_redis = ratelimit.Limiter._send

    def recording(self, *args):
        callers.append(threading.current_thread().name)
        return send_to_redis(self, *args)

    monkeypatch.setattr(ratelimit.Limiter, "_send", recording)
    for n in range(3):
        assert send(client, form, "api", n).status_code == 201
    assert wait_for(lambda: counts_in(limiter).get("ip") == 3)  # no flush() called here
    assert counts_in(limiter) == {"ip": 3, "form": 3}
    assert callers and set(callers) == {"ratelimit-flush"}


def test_within_one_process_the_limit_is_exact_before_any_flush(limiter, form, settings):
    settings.RATE_LIMIT_TIMEOUT = 1.0  # a post that waited for Redis would take that long
    limiter.pause()  # no flush comes back: every count below is this process's own
    try:
        took = [_elapsed(lambda: check(form)) for _ in range(3)]
        with pytest.raises(RateLimited):
            check(form)
        check(form, ip="198.51.100.8")
    finally:
        limiter.resume()
    assert max(took) < 0.5, f"a post waited {max(took):.3f} s for a stalled Redis"


def test_processes_see_each_others_counts_after_a_flush(limiter, form, second_process):
    for _ in range(2):
        check(form)
    ratelimit.flush()
    with second_process():
        check(form)  # 1 of its own: it has not heard of the other's 2 yet
        ratelimit.flush()  # Redis: 3, and now it knows
        with pytest.raises(RateLimited):
            check(form)
    check(form)  # 2 known + 1 of its own: within, since the other's last 2 are not flushed yet
    ratelimit.flush()
    with pytest.raises(RateLimited):
        check(form)
    ratelimit.flush()
    assert counts_in(limiter) == {"ip": 4, "form": 4}  # the two refused are not counted


@pytest.mark.parametrize("kind", KINDS)
def test_with_redis_down_each_process_still_limits_and_it_is_logged(
    client, limiter, form, kind, caplog
):
    limiter.stop()
    with caplog.at_level(logging.WARNING, logger="leads.capture.intake.ratelimit"):
        for n in range(3):
            assert send(client, form, kind, n).status_code in (200, 201, 302)
        assert_retry_after(send(client, form, kind, 3))
        ratelimit.flush()
        assert wait_for(lambda: "counts not shared" in caplog.text)
    assert Lead.objects.count() == 3


def test_a_flush_never_waits_long_on_a_stalled_redis(limiter, form, caplog):
    check(form)
    ratelimit.flush()  # a connection to Redis, which then stops answering
    limiter.pause()
    try:
        with caplog.at_level(logging.WARNING, logger="leads.capture.intake.ratelimit"):
            check(form)  # flushed by this thread or the limiter's, which then waits on Redis
            stalled = _elapsed(ratelimit.flush)
            backed_off = _elapsed(ratelimit.flush)
            ratelimit.reset()  # a fresh connection to the stalled server
            check(form)
            fresh = _elapsed(ratelimit.flush)
    finally:
        limiter.resume()
    assert stalled < 0.2, f"a flush waited {stalled:.3f} s on a stalled Redis"
    assert fresh < 0.2, f"a flush waited {fresh:.3f} s to connect to a stalled Redis"
    assert backed_off < 0.03, "after a failure the limiter should leave Redis alone a while"
    assert "counts not shared" in caplog.text


def test_a_post_to_a_stalled_redis_is_still_stored_quickly(client, limiter, form):
    limiter.pause()
    try:
        started = time.perf_counter()
        response = send(client, form, "api")
        took = time.perf_counter() - started
    finally:
        limiter.resume()
    assert response.status_code == 201
    assert took < 1.0  # the whole request, database included


def test_counts_not_sent_while_redis_was_down_are_sent_after_the_back_off(
    client, limiter, settings, form
):
    settings.RATE_LIMIT_BACKOFF_SECONDS = 0
    limiter.stop()
    assert send(client, form, "api", 1).status_code == 201
    ratelimit.flush()  # fails: the post stays pending
    limiter.start()
    ratelimit.flush()
    assert counts_in(limiter) == {"ip": 1, "form": 1}
    for n in range(2):
        assert send(client, form, "api", n + 10).status_code == 201
    assert send(client, form, "api", 20).status_code == 429


def test_the_flush_thread_survives_an_error(limiter, form, monkeypatch, caplog):
    send_to_redis = ratelimit.Limiter._send
    failures = []

    def failing_once(self, *args):
        if not failures:
            failures.append(True)
            raise RuntimeError("a bug")
        return send_to_redis(self, *args)

    monkeypatch.setattr(ratelimit.Limiter, "_send", failing_once)
    check(form)
    assert wait_for(lambda: counts_in(limiter) == {"ip": 1, "form": 1})  # sent by the retry
    assert failures
    assert "could not flush" in caplog.text


def test_no_redis_configured_means_no_limit(client, settings, form):
    settings.RATE_LIMIT_REDIS_URL = ""
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = 1
    for n in range(3):
        assert send(client, form, "api", n).status_code == 201


def test_counts_survive_redis_forgetting_the_script_and_every_key_expires(client, limiter, form):
    assert send(client, form, "api", 1).status_code == 201
    ratelimit.flush()
    redis = Redis.from_url(limiter.url)
    redis.script_flush()  # as after a restart: EVALSHA finds no script, EVAL loads it again
    assert send(client, form, "api", 2).status_code == 201
    ratelimit.flush()
    assert counts_in(limiter) == {"ip": 2, "form": 2}
    keys = redis.keys(f"{ratelimit.KEY_PREFIX}:*")
    assert all(0 < redis.ttl(key) <= ratelimit.WINDOW_SECONDS + 1 for key in keys)
    assert send(client, form, "api", 3).status_code == 201
    assert send(client, form, "api", 4).status_code == 429  # the fourth from this IP


def test_a_new_window_starts_from_zero_and_the_old_one_is_forgotten(client, limiter, form):
    minute = datetime(2026, 12, 4, 14, 0, 1, tzinfo=UTC)
    with time_machine.travel(minute, tick=False) as clock:
        for n in range(3):
            assert send(client, form, "api", n).status_code == 201
        assert assert_retry_after(send(client, form, "api", 3)) == 59
        old = set(ratelimit._limiter.windows)
        clock.shift(ratelimit.WINDOW_SECONDS)
        assert send(client, form, "api", 4).status_code == 201
        ratelimit.flush()
        assert set(ratelimit._limiter.windows) == {max(old) + 1}
        window = ratelimit._limiter.windows[max(old) + 1]
        assert sorted(count.total for count in window.values()) == [1, 1]


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_process_counts_on_its_own_and_starts_its_own_flush_thread(limiter, form):
    check(form)
    ratelimit.flush()
    pid = os.fork()
    if pid == 0:  # the child: its post reaches Redis only through a thread of its own
        code = 1
        try:
            check(form)
            code = 0 if wait_for(lambda: counts_in(limiter) == {"ip": 2, "form": 2}) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert counts_in(limiter) == {"ip": 2, "form": 2}


@pytest.mark.parametrize(
    ("per_ip", "per_form", "warned"),
    [(20, 600, False), (60, 600, False), (61, 600, True), (0, 600, True), (600, 0, False)],
)
def test_a_per_ip_limit_not_well_below_the_forms_is_a_warning(settings, per_ip, per_form, warned):
    settings.RATE_LIMIT_REDIS_URL = "redis://127.0.0.1:1/0"
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = per_ip
    settings.RATE_LIMIT_PER_FORM_PER_MINUTE = per_form
    found = [message.id for message in run_checks(tags=["security"])]
    assert ("capture.W001" in found) == warned


@pytest.mark.parametrize("endpoint", ["capture:hubspot_submit", "capture:hubspot_secure_submit"])
@pytest.mark.usefixtures("one_minute")
def test_a_hubspot_form_id_that_is_not_a_guid_is_a_json_404_and_counted(client, limiter, endpoint):
    url = reverse(endpoint, kwargs={"portal_id": "1", "guid": "not-a-guid"})
    body = {"fields": [{"name": "email", "value": "ana@acme.example"}]}
    for _ in range(3):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 404
        assert response.json()["errors"][0]["errorType"] == "FORM_NOT_FOUND"
        assert response.json()["status"] == "error"
    response = client.post(url, body, content_type="application/json")
    assert_retry_after(response)
    assert response.json()["errors"][0]["errorType"] == "RATE_LIMIT"
