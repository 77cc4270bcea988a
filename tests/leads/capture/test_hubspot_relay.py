"""HubSpot's secure endpoint as a trusted relay uses it: an account token (any form, made
and revoked by a marketing manager, shown once, kept hashed), `submittedAt` as the time of
the post within bounds, `context.ipAddress` as the visitor's address for provenance and the
rate limit."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from leads.capture.builder.tokens import (
    hubspot_account_token_issue,
    hubspot_account_token_revoke,
    hubspot_token_issue,
)
from leads.capture.intake import ratelimit
from leads.capture.models import HubSpotAccountToken
from leads.models import Lead, Submission
from portal.accounts.roles import Role
from tests.conftest import needs_redis_server
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.fixture
def form():
    return FormFactory(thank_you_message="Thanks!")


def secure(client, form, token, body=None, **meta):
    body = body or {"fields": [{"name": "email", "value": "ana@acme.example"}]}
    url = reverse("capture:hubspot_secure_submit", kwargs={"portal_id": "1", "guid": form.guid})
    return client.post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", **meta
    )


def test_an_account_token_opens_every_forms_secure_endpoint(client, form):
    other = FormFactory()
    _made, token = hubspot_account_token_issue(name="Website server", by=None)
    assert secure(client, form, token).status_code == 200
    body = {"fields": [{"name": "email", "value": "bruno@acme.example"}]}
    assert secure(client, other, token, body).status_code == 200
    assert Lead.objects.count() == 2


def test_an_account_token_is_kept_hashed_and_stops_when_revoked(client, form):
    made, token = hubspot_account_token_issue(name="Zapier", by=None)
    assert token.startswith("lbpat-")
    stored = HubSpotAccountToken.objects.values().get()
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored)
    assert hubspot_account_token_revoke(account_token=made, by=None)
    assert not hubspot_account_token_revoke(account_token=made, by=None)
    assert secure(client, form, token).status_code == 401
    assert not Submission.objects.exists()


def test_a_made_up_account_token_is_refused(client, form):
    hubspot_account_token_issue(name="Zapier", by=None)
    assert secure(client, form, "lbpat-made-up").status_code == 401


def test_last_used_is_written_at_most_every_few_minutes(client, form):
    made, token = hubspot_account_token_issue(name="Zapier", by=None)
    with time_machine.travel(NOW, tick=False):
        secure(client, form, token)
    made.refresh_from_db()
    assert made.last_used_at == NOW
    body = {"fields": [{"name": "email", "value": "b@acme.example"}]}
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        secure(client, form, token, body)
    made.refresh_from_db()
    assert made.last_used_at == NOW
    body = {"fields": [{"name": "email", "value": "c@acme.example"}]}
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        secure(client, form, token, body)
    made.refresh_from_db()
    assert made.last_used_at == NOW + timedelta(minutes=6)


def test_hubspots_documented_secure_request_keeps_its_submitted_at(client, form):
    # HubSpot's own example names 2018-02-06 14:26:14 UTC; a relay sending it then.
    token = hubspot_token_issue(form=form)
    body = json.loads((FIXTURES / "v3_submit_docs.json").read_text())
    with time_machine.travel(datetime(2018, 2, 6, 14, 30, tzinfo=UTC), tick=False):
        response = secure(client, form, token, body)
    assert response.status_code == 200, response.content
    submission = Submission.objects.get()
    assert submission.received_at == datetime(2018, 2, 6, 14, 26, 14, tzinfo=UTC)
    assert submission.problems == []
    assert submission.lead.first_name == "Jeff"


@pytest.mark.parametrize(
    ("submitted_at", "code"),
    [
        (int((NOW + timedelta(minutes=10)).timestamp() * 1000), "in_future"),
        (int((NOW - timedelta(days=31)).timestamp() * 1000), "too_old"),
        ("yesterday", "invalid"),
        (True, "invalid"),
        (10**30, "invalid"),
    ],
)
def test_a_submitted_at_out_of_bounds_is_recorded_and_our_time_used(
    client, form, submitted_at, code
):
    token = hubspot_token_issue(form=form)
    body = {"fields": [{"name": "email", "value": "a@acme.example"}], "submittedAt": submitted_at}
    with time_machine.travel(NOW, tick=False):
        assert secure(client, form, token, body).status_code == 200
    submission = Submission.objects.get()
    assert submission.received_at == NOW
    assert [(p["field"], p["code"]) for p in submission.problems] == [("submittedAt", code)]


def test_a_submitted_at_a_little_ahead_is_taken(client, form):
    token = hubspot_token_issue(form=form)
    ahead = NOW + timedelta(minutes=2)
    body = {
        "fields": [{"name": "email", "value": "a@acme.example"}],
        "submittedAt": int(ahead.timestamp() * 1000),
    }
    with time_machine.travel(NOW, tick=False):
        secure(client, form, token, body)
    assert Submission.objects.get().received_at == ahead


def test_the_visitors_ip_from_the_context_is_stored_behind_a_token(client, form):
    token = hubspot_token_issue(form=form)
    body = {
        "fields": [{"name": "email", "value": "a@acme.example"}],
        "context": {"ipAddress": "203.0.113.9", "pageUri": "https://www.acme.example/"},
    }
    secure(client, form, token, body, REMOTE_ADDR="198.51.100.1")
    submission = Submission.objects.get()
    assert submission.ip_address == "203.0.113.9"
    assert submission.payload["context"]["ipAddress"] == "203.0.113.9"


def test_an_ip_that_is_not_one_is_recorded_and_the_relays_used(client, form):
    token = hubspot_token_issue(form=form)
    body = {"fields": [{"name": "email", "value": "a@acme.example"}], "context": {"ipAddress": "x"}}
    secure(client, form, token, body, REMOTE_ADDR="198.51.100.1")
    submission = Submission.objects.get()
    assert submission.ip_address == "198.51.100.1"
    assert [(p["field"], p["code"]) for p in submission.problems] == [
        ("context.ipAddress", "invalid")
    ]


def test_the_public_endpoint_ignores_the_context_ip_and_submitted_at(client, form):
    url = reverse("capture:hubspot_submit", kwargs={"portal_id": "1", "guid": form.guid})
    body = {
        "fields": [{"name": "email", "value": "a@acme.example"}],
        "context": {"ipAddress": "203.0.113.9"},
        "submittedAt": "1517927174000",
    }
    with time_machine.travel(NOW, tick=False):
        client.post(url, body, content_type="application/json", REMOTE_ADDR="198.51.100.1")
    submission = Submission.objects.get()
    assert (submission.ip_address, submission.received_at) == ("198.51.100.1", NOW)


@needs_redis_server
def test_a_relay_is_limited_per_visitor_not_per_relay(client, form, own_redis, settings):
    settings.RATE_LIMIT_REDIS_URL = own_redis.url
    settings.RATE_LIMIT_PER_IP_PER_MINUTE = 2
    settings.RATE_LIMIT_PER_FORM_PER_MINUTE = 1000
    ratelimit.reset()
    token = hubspot_token_issue(form=form)
    try:
        with time_machine.travel(datetime(2026, 12, 4, 14, 0, 1, tzinfo=UTC), tick=True):
            statuses = []
            for n in range(5):  # five visitors, one relay
                body = {
                    "fields": [{"name": "email", "value": f"v{n}@acme.example"}],
                    "context": {"ipAddress": f"203.0.113.{n + 1}"},
                }
                statuses.append(secure(client, form, token, body).status_code)
            assert statuses == [200] * 5
            for n in range(3):  # one visitor, three posts
                body = {
                    "fields": [{"name": "email", "value": f"w{n}@acme.example"}],
                    "context": {"ipAddress": "203.0.113.200"},
                }
                statuses.append(secure(client, form, token, body).status_code)
            assert statuses[5:7] == [200, 200]
            assert statuses[7] == 429
    finally:
        ratelimit.reset()


def tokens_page(client):
    return client.get(reverse("capture:account_tokens"))


def test_a_marketing_manager_makes_an_account_token_and_sees_it_once(client, form):
    manager = UserFactory(role=Role.MARKETING_MANAGER)
    client.force_login(manager)
    assert "No account tokens yet" in tokens_page(client).content.decode()
    shown = client.post(reverse("capture:account_tokens"), {"name": "Website server"})
    assert shown.status_code == 200
    assert shown["Cache-Control"] == "no-store"
    token = shown.context["token"]
    assert f'value="{token}"' in shown.content.decode()
    assert secure(client, form, token).status_code == 200
    listing = tokens_page(client).content.decode()
    assert token not in listing
    assert "Website server" in listing
    made = HubSpotAccountToken.objects.get()
    assert made.created_by == manager and made.last_used_at is not None


def test_a_nameless_token_is_refused_naming_the_field(client):
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    response = client.post(reverse("capture:account_tokens"), {"name": ""})
    assert response.status_code == 400
    assert response.context["bound"].errors["name"]
    assert not HubSpotAccountToken.objects.exists()


def test_a_marketing_manager_revokes_after_confirming(client, form):
    manager = UserFactory(role=Role.MARKETING_MANAGER)
    client.force_login(manager)
    made, token = hubspot_account_token_issue(name="Zapier", by=None)
    url = reverse("capture:account_token_revoke", args=[made.pk])
    assert "Yes, revoke it" in client.get(url).content.decode()
    made.refresh_from_db()
    assert made.is_active  # asking is not revoking
    assert client.post(url).status_code == 302
    made.refresh_from_db()
    assert (made.is_active, made.revoked_by) == (False, manager)
    assert secure(client, form, token).status_code == 401


@pytest.mark.parametrize("role", [Role.MARKETER, Role.SALES_REP, Role.SALES_MANAGER])
def test_other_roles_cannot_see_or_make_account_tokens(client, role):
    client.force_login(UserFactory(role=role))
    assert tokens_page(client).status_code == 403
    assert client.post(reverse("capture:account_tokens"), {"name": "x"}).status_code == 403
    assert not HubSpotAccountToken.objects.exists()
