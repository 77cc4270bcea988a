"""Personal API tokens: shown once, stored as a digest, optionally read-only, revoked for
good, their last use recorded; the profile page makes and revokes them."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.capture.intake import ratelimit
from portal.accounts.roles import Role
from portal.integrations.api.models import ApiToken
from portal.integrations.api.services import token_authenticate, token_create, token_revoke
from tests.conftest import needs_redis_server
from tests.error_shape import assert_error_json
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_only_a_digest_of_the_token_is_stored():
    token, raw = token_create(user=UserFactory(role=Role.SALES_REP), name="CRM")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith(f"lb_{stored.prefix}_")
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {str(value) for value in vars(stored).values()}


def test_a_token_opens_the_api_as_its_user():
    user = UserFactory(role=Role.SALES_REP)
    _token, raw = token_create(user=user, name="CRM")
    response = Client().get(reverse("api:lead-list"), headers=_bearer(raw))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer lb_00000000_nothing", "Bearer nonsense", "Bearer ", "Bearer lb_x"],
)
def test_an_unknown_token_is_a_401_saying_how_to_authenticate(header):
    response = Client().get(reverse("api:lead-list"), headers={"Authorization": header})
    assert_error_json(response, 401, response.json()["code"])
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_with_the_right_prefix_but_a_wrong_secret_is_refused():
    _token, raw = token_create(user=UserFactory(role=Role.SALES_REP), name="CRM")
    forged = raw[:-4] + ("aaaa" if not raw.endswith("aaaa") else "bbbb")
    response = Client().get(reverse("api:lead-list"), headers=_bearer(forged))
    assert response.status_code == 401


def test_a_revoked_token_opens_nothing():
    user = UserFactory(role=Role.SALES_REP)
    token, raw = token_create(user=user, name="CRM")
    token_revoke(token_id=token.pk, by=user)
    response = Client().get(reverse("api:lead-list"), headers=_bearer(raw))
    assert_error_json(response, 401, "invalid_token")


def test_a_token_of_a_deactivated_user_opens_nothing():
    user = UserFactory(role=Role.SALES_REP)
    _token, raw = token_create(user=user, name="CRM")
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert Client().get(reverse("api:lead-list"), headers=_bearer(raw)).status_code == 401


def test_nobody_revokes_another_users_token():
    token, raw = token_create(user=UserFactory(role=Role.SALES_REP), name="CRM")
    with pytest.raises(Exception, match="no such token"):
        token_revoke(token_id=token.pk, by=UserFactory(role=Role.SALES_MANAGER))
    assert token_authenticate(raw) is not None


def test_a_read_only_token_reads_but_changes_nothing():
    user = UserFactory(role=Role.MARKETER)
    _token, raw = token_create(user=user, name="Warehouse", read_only=True)
    client = Client()
    assert client.get(reverse("api:form-list"), headers=_bearer(raw)).status_code == 200
    response = client.post(
        reverse("api:form-list"),
        {"name": "Webinar", "slug": "webinar"},
        content_type="application/json",
        headers=_bearer(raw),
    )
    assert_error_json(response, 403, "read_only_token")


def test_the_last_use_is_recorded_at_most_once_a_minute():
    _token, raw = token_create(user=UserFactory(role=Role.SALES_REP), name="CRM")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert token_authenticate(raw).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        token_authenticate(raw)
        assert ApiToken.objects.get().last_used_at == start
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        token_authenticate(raw)
        assert ApiToken.objects.get().last_used_at == start + timedelta(minutes=2)


@needs_redis_server
def test_too_many_requests_is_a_429_with_retry_after(own_redis, settings):
    settings.RATE_LIMIT_REDIS_URL = own_redis.url
    settings.API_RATE = "3/minute"
    ratelimit.reset()
    _token, raw = token_create(user=UserFactory(role=Role.SALES_REP), name="CRM")
    client = Client()
    answers = [client.get(reverse("api:lead-list"), headers=_bearer(raw)) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert_error_json(answers[-1], 429, "rate_limited")
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    ratelimit.reset()


# The profile page


def test_a_token_made_on_the_profile_page_is_shown_once():
    user = UserFactory(role=Role.SALES_REP)
    client = Client()
    client.force_login(user)
    response = client.post(reverse("token_new"), {"name": "CRM sync", "read_only": "on"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    assert token.read_only
    raw = response.context["shown"]
    assert raw in response.content.decode()
    assert token_authenticate(raw) == token
    assert "no-store" in response["Cache-Control"]
    again = client.get(reverse("profile")).content.decode()
    assert raw not in again
    assert f"lb_{token.prefix}…" in again


def test_a_token_without_a_name_is_refused_on_the_page():
    client = Client()
    client.force_login(UserFactory(role=Role.SALES_REP))
    response = client.post(reverse("token_new"), {"name": ""})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not ApiToken.objects.exists()


def test_revoking_on_the_profile_page_asks_first_then_revokes():
    user = UserFactory(role=Role.SALES_REP)
    token, raw = token_create(user=user, name="CRM")
    client = Client()
    client.force_login(user)
    url = reverse("token_revoke", kwargs={"pk": token.pk})
    assert "Revoke CRM?" in client.get(url).content.decode()
    assert token_authenticate(raw) is not None
    assert client.post(url).status_code == 302
    assert token_authenticate(raw) is None
    assert "Revoked" in client.get(reverse("profile")).content.decode()


def test_the_command_prints_a_working_token_for_a_user(capsys):
    from django.core.management import CommandError, call_command

    user = UserFactory(role=Role.SALES_REP, username="rep.ana")
    call_command("api_token", "rep.ana", "--name", "quickstart", "--read-only")
    raw = capsys.readouterr().out.strip()
    token = token_authenticate(raw)
    assert token.user == user and token.read_only and token.name == "quickstart"
    with pytest.raises(CommandError, match="nobody"):
        call_command("api_token", "nobody")
