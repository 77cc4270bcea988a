"""A session ends after SESSION_COOKIE_AGE without a request, and not while it is used."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.accounts.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IDLE = timedelta(hours=8)  # the documented default


def signed_in(client) -> bool:
    response = client.get(reverse("inbox:list"))
    return response.status_code == 200


def test_the_idle_time_is_eight_hours_by_default():
    assert IDLE.total_seconds() == settings.SESSION_COOKIE_AGE


def test_a_session_left_idle_ends_and_one_in_use_goes_on(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(UserFactory(role=Role.SALES_REP))
        assert signed_in(client)
    # Used every few hours, it outlives the idle time many times over.
    for hours in (7, 14, 21, 28):
        with time_machine.travel(start + timedelta(hours=hours), tick=False):
            assert signed_in(client), f"signed out after {hours} hours in use"
    with time_machine.travel(start + timedelta(hours=28) + IDLE + timedelta(minutes=2)):
        response = client.get(reverse("inbox:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_session_is_saved_at_most_once_a_refresh_interval(client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(UserFactory(role=Role.SALES_REP))
        signed_in(client)
        expiry = Session.objects.get().expire_date
    with time_machine.travel(start + timedelta(seconds=settings.SESSION_REFRESH_SECONDS / 2)):
        with CaptureQueriesContext(connection) as queries:
            signed_in(client)
        assert not [q for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]
        assert Session.objects.get().expire_date == expiry
    later = start + timedelta(seconds=settings.SESSION_REFRESH_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        signed_in(client)
        assert Session.objects.get().expire_date == later + IDLE


def test_a_public_page_writes_no_session(client, settings):
    from tests.factories import FormFactory

    form = FormFactory()
    client.get(reverse("capture:form", kwargs={"slug": form.slug}))
    assert not Session.objects.exists()
