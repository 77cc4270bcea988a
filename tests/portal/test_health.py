from unittest import mock

import pytest
from django.core import checks
from django.db import DatabaseError
from django.test import override_settings
from django.urls import reverse

from leads.handoff.apps import broker_configured

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_when_the_database_does(client):
    response = client.get(reverse("healthz"))
    assert (response.status_code, response.content) == (200, b"ok\n")


def test_healthz_answers_503_when_the_database_does_not(client):
    with mock.patch("portal.accounts.views.connection.cursor", side_effect=DatabaseError):
        assert client.get(reverse("healthz")).status_code == 503


@override_settings(CELERY_BROKER_URL="")
def test_deploy_check_warns_when_tasks_would_run_in_requests():
    assert [message.id for message in broker_configured(None)] == ["handoff.W001"]
    assert isinstance(broker_configured(None)[0], checks.Warning)


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
def test_deploy_check_is_quiet_with_a_broker():
    assert broker_configured(None) == []
