"""Rate limits per client IP and per form, in a Redis of the test's own; intake never waits."""

import logging
import time
import uuid

import pytest
from django.test import RequestFactory
from django.urls import reverse
from redis import Redis

from leads.capture import ratelimit
from leads.models import Lead, Submission
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
    return client.post(url, {"oid": str(form.guid), "email": email}, **meta)


def assert_retry_after(response) -> int:
    assert response.status_code == 429, response.content
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= ratelimit.WINDOW_SECONDS
    return seconds


@pytest.mark.parametrize("kind", KINDS)
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
def test_a_flood_naming_made_up_forms_is_limited_per_ip(client, limiter, form, kind):
    for _ in range(3):
        assert send_to_no_form(client, kind).status_code == 404
    assert_retry_after(send_to_no_form(client, kind))
    assert_retry_after(send(client, form, kind, 1))  # the IP's limit covers every form
    assert send_to_no_form(client, kind, ip="198.51.100.8").status_code == 404
    assert Submission.objects.count() == 0


def test_guessing_secure_hubspot_tokens_is_limited_per_ip(client, limiter, form):
    url = reverse("capture:hubspot_secure_submit", kwargs={"portal_id": "1", "guid": form.guid})
    body = {"fields": [{"name": "email", "value": "ana@acme.example"}]}
    for n in range(3):
        wrong = {"HTTP_AUTHORIZATION": f"Bearer guess-{n}"}
        assert client.post(url, body, content_type="application/json", **wrong).status_code == 401
    response = client.post(url, body, content_type="application/json")
    assert_retry_after(response)
    assert response.json()["errors"][0]["errorType"] == "RATE_LIMIT"


def test_web_to_lead_oids_that_are_not_guids_count_too(client, limiter):
    url = reverse("capture:web_to_lead") + "?encoding=UTF-8"
    for n in range(3):
        assert client.post(url, {"oid": f"00D{n}", "email": "a@b.example"}).status_code == 400
    response = client.post(url, {"oid": "00D9", "email": "a@b.example"})
    assert_retry_after(response)
    assert b"Please wait a moment" in response.content


def test_the_limit_is_per_ip(client, limiter, form):
    for n in range(3):
        send(client, form, "api", n, ip="198.51.100.7")
    assert send(client, form, "api", 9, ip="198.51.100.7").status_code == 429
    assert send(client, form, "api", 10, ip="198.51.100.8").status_code == 201


def test_the_limit_per_form_holds_across_addresses(client, limiter, settings, form):
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = 100
    settings.RATE_LIMIT_PER_FORM_PER_MINUTE = 2
    other = FormFactory()
    assert send(client, form, "api", 1, ip="198.51.100.1").status_code == 201
    assert send(client, form, "page", 2, ip="198.51.100.2").status_code == 302
    assert_retry_after(send(client, form, "hubspot", 3, ip="198.51.100.3"))
    assert send(client, other, "api", 4, ip="198.51.100.4").status_code == 201


def test_showing_the_hosted_form_is_not_counted(client, limiter, form):
    for _ in range(5):
        assert client.get(reverse("capture:form", args=[form.slug])).status_code == 200
    assert send(client, form, "page").status_code == 302


@pytest.mark.parametrize("kind", KINDS)
def test_with_redis_down_posts_are_accepted_and_it_is_logged(client, limiter, form, kind, caplog):
    limiter.stop()
    with caplog.at_level(logging.WARNING, logger="leads.capture.ratelimit"):
        for n in range(5):
            assert send(client, form, kind, n).status_code in (200, 201, 302)
    assert Lead.objects.count() == 5
    assert "Rate limit not checked, post let through" in caplog.text


def _elapsed(check) -> float:
    started = time.perf_counter()
    check()
    return time.perf_counter() - started


def test_the_limiter_never_waits_on_a_stalled_redis(limiter, form, caplog):
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.7")

    def check():
        ratelimit.check_rate_limit(request, form)

    check()  # a pooled connection to Redis, which then stops answering
    limiter.pause()
    try:
        with caplog.at_level(logging.WARNING, logger="leads.capture.ratelimit"):
            stalled = _elapsed(check)
            backed_off = _elapsed(check)
        ratelimit.reset()  # a fresh connection to the stalled server
        fresh = _elapsed(check)
    finally:
        limiter.resume()
    assert stalled < 0.2, f"waited {stalled:.3f} s on a stalled Redis"
    assert fresh < 0.2, f"waited {fresh:.3f} s to connect to a stalled Redis"
    assert backed_off < 0.01, "after a failure the limiter should leave Redis alone a while"
    assert "post let through" in caplog.text


def test_a_post_to_a_stalled_redis_is_still_stored_quickly(client, limiter, form):
    limiter.pause()
    try:
        started = time.perf_counter()
        response = send(client, form, "api")
        took = time.perf_counter() - started
    finally:
        limiter.resume()
    assert response.status_code == 201
    assert took < 1.0  # the whole request, database included; the limiter's share is above


def test_after_the_back_off_the_limiter_counts_again(client, limiter, settings, form):
    settings.RATE_LIMIT_BACKOFF_SECONDS = 0
    limiter.stop()
    assert send(client, form, "api", 1).status_code == 201
    limiter.start()
    for n in range(3):
        send(client, form, "api", n + 10)
    assert send(client, form, "api", 20).status_code == 429


def test_no_redis_configured_means_no_limit(client, settings, form):
    settings.RATE_LIMIT_REDIS_URL = ""
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = 1
    for n in range(3):
        assert send(client, form, "api", n).status_code == 201


def test_counts_survive_redis_forgetting_the_script_and_every_key_expires(client, limiter, form):
    assert send(client, form, "api", 1).status_code == 201
    redis = Redis.from_url(limiter.url)
    redis.script_flush()  # as after a restart: EVALSHA finds no script, EVAL loads it again
    assert send(client, form, "api", 2).status_code == 201
    keys = redis.keys(f"{ratelimit.KEY_PREFIX}:*")
    assert sorted(int(redis.get(key)) for key in keys) == [2, 2]  # this IP, this form
    assert all(0 < redis.ttl(key) <= ratelimit.WINDOW_SECONDS + 1 for key in keys)
    assert send(client, form, "api", 3).status_code == 201
    assert send(client, form, "api", 4).status_code == 429  # the fourth from this IP
