"""Login throttling (django-axes): a username is locked from one address after a few wrong
passwords, for a cool-off, and nowhere else."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
ELSEWHERE = "198.51.100.20"


@pytest.fixture
def ana():
    return UserFactory(username="ana", password="right-password")


def log_in(client, password, address=ATTACKER, username="ana"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("home")


def test_fifty_wrong_passwords_lock_the_right_one_out_until_the_cool_off(client, ana):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(50):
            assert log_in(client, "guess").status_code in (200, 429)
        refused = log_in(client, "right-password")
        assert refused.status_code == 429
        assert "_auth_user_id" not in client.session
        page = refused.content.decode()
        assert "Too many failed log-ins" in page
        assert f"paused for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in page
        assert refused["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))

    # The cool-off counts from the last refused attempt.
    with time_machine.travel(start + settings.AXES_COOLOFF_TIME - timedelta(seconds=5)):
        assert log_in(client, "right-password").status_code == 429
    later = start + 2 * settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    with time_machine.travel(later):
        assert logged_in(log_in(client, "right-password"))


def test_the_lock_is_the_limit_of_failures_for_that_username_from_that_address(client, ana):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "guess").status_code == 200  # the form again, with its error
    assert log_in(client, "guess").status_code == 429
    assert log_in(client, "right-password").status_code == 429


def test_an_attacker_cannot_lock_the_user_out_from_elsewhere(client, ana):
    for _ in range(20):
        log_in(client, "guess")
    assert logged_in(log_in(client, "right-password", address=ELSEWHERE))


def test_another_username_from_the_same_address_is_not_locked(client, ana):
    UserFactory(username="bruno", password="brunos-password")
    for _ in range(20):
        log_in(client, "guess")
    assert logged_in(log_in(client, "brunos-password", username="bruno"))


def test_a_success_forgets_the_earlier_failures(client, ana):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "guess")
    assert logged_in(log_in(client, "right-password"))
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "guess")
    assert logged_in(log_in(client, "right-password"))
