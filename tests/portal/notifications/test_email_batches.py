"""E-mail at a high rate of changes: a batch of users is sent in a fixed number of queries
and one SMTP session, and a user told many things in a short time gets one message listing
them after their quiet (NOTIFICATION_EMAIL_QUIET_SECONDS), not one message each."""

import datetime
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from portal.accounts.roles import Role
from portal.notifications.models import Delivery, EmailPace, Kind, Notification
from portal.notifications.services import Notice, notices_send, preferences_set
from portal.notifications.tasks import send_digests, send_emails
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 5, 14, 30, tzinfo=datetime.UTC)
QUIET = datetime.timedelta(seconds=60)


def tell(user, title, kind=Kind.LEAD_ASSIGNED):
    notices_send([Notice(recipient_id=user.pk, kind=kind, title=title, url="/leads/1/")])


def reps(count):
    return [
        UserFactory(role=Role.SALES_REP, email=f"rep{i}@leadbridge.example") for i in range(count)
    ]


class SessionCountingBackend(locmem.EmailBackend):
    """locmem, counting the sessions opened as the SMTP backend would (open when closed)."""

    sessions = 0

    def open(self):
        if getattr(self, "connected", False):
            return False
        self.connected = True
        SessionCountingBackend.sessions += 1
        return True

    def close(self):
        self.connected = False


@override_settings(LEADBRIDGE_EMAIL_QUIET_SECONDS=60)
def test_a_user_told_again_while_quiet_gets_one_message_listing_it_all_when_the_quiet_ends(
    rep, django_capture_on_commit_callbacks
):
    follow_ups = mock.patch.object(send_emails, "apply_async", wraps=send_emails.apply_async)
    with (
        follow_ups as queued,
        time_machine.travel(NOW, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        tell(rep, "Ana was assigned to you")
    [first] = mail.outbox
    assert first.subject == "LeadBridge: Ana was assigned to you"  # the first news: at once
    # The send queued a follow-up for when the quiet ends (tests run it at once: nothing due).
    assert queued.call_args_list[-1].kwargs["countdown"] == 60
    assert queued.call_args_list[-1].args == (([rep.pk],),)

    for seconds, title in ((10, "Bea was assigned to you"), (20, "Cy was assigned to you")):
        with time_machine.travel(NOW + datetime.timedelta(seconds=seconds), tick=False):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                tell(rep, title)
            assert callbacks == []  # quiet: nothing queued, the follow-up sends it
    assert len(mail.outbox) == 1
    waiting = Notification.objects.filter(emailed_at__isnull=True)
    assert set(waiting.values_list("email_due_at", flat=True)) == {NOW + QUIET}

    with time_machine.travel(NOW + QUIET, tick=False):
        send_emails([rep.pk])  # the follow-up
    assert len(mail.outbox) == 2
    second = mail.outbox[1]
    assert second.subject == "LeadBridge: 2 notifications"
    assert "Bea was assigned" in second.body and "Cy was assigned" in second.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert EmailPace.objects.get(user=rep).quiet_until == NOW + 2 * QUIET


@override_settings(LEADBRIDGE_EMAIL_QUIET_SECONDS=60)
def test_a_quiet_user_is_told_at_once_again_once_the_quiet_has_passed(
    rep, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        tell(rep, "Ana was assigned to you")
    later = NOW + QUIET + datetime.timedelta(seconds=1)
    with time_machine.travel(later, tick=False), django_capture_on_commit_callbacks(execute=True):
        tell(rep, "Bea was assigned to you")
    assert [m.subject for m in mail.outbox] == [
        "LeadBridge: Ana was assigned to you",
        "LeadBridge: Bea was assigned to you",
    ]


@override_settings(LEADBRIDGE_EMAIL_QUIET_SECONDS=0)
def test_without_a_quiet_every_change_is_its_own_email_at_once(
    rep, django_capture_on_commit_callbacks
):
    for title in ("Ana was assigned to you", "Bea was assigned to you"):  # two commits
        with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
            tell(rep, title)
    assert len(mail.outbox) == 2
    assert not EmailPace.objects.exists()


@override_settings(LEADBRIDGE_EMAIL_QUIET_SECONDS=60)
def test_what_was_due_before_the_pace_was_set_waits_for_the_quiet_too(rep):
    # Written (due at once) by a transaction that read the pace before a send set it.
    with time_machine.travel(NOW, tick=False):
        tell(rep, "Ana was assigned to you")
        EmailPace.objects.create(user=rep, quiet_until=NOW + QUIET)
        send_emails([rep.pk])
    assert mail.outbox == []
    assert Notification.objects.get().email_due_at == NOW + QUIET


@override_settings(LEADBRIDGE_EMAIL_QUIET_SECONDS=60, LEADBRIDGE_DIGEST_HOUR=8)
def test_a_quiet_users_digest_keeps_its_hour(rep):
    EmailPace.objects.create(user=rep, quiet_until=NOW + QUIET)
    with time_machine.travel(NOW, tick=False):
        tell(rep, "Agreement v2 is active", kind=Kind.AGREEMENT_ACTIVE)  # digest by default
    assert Notification.objects.get().email_due_at == datetime.datetime(
        2025, 3, 6, 8, 0, tzinfo=datetime.UTC
    )
    with time_machine.travel(datetime.datetime(2025, 3, 6, 8, 0, tzinfo=datetime.UTC), tick=False):
        send_digests()
    assert [m.subject for m in mail.outbox] == ["LeadBridge daily digest: 1 notification"]


def test_a_batch_of_users_is_sent_in_the_same_queries_whatever_its_size():
    users = reps(8)
    preferences_set(user=users[0], choices={Kind.LEAD_ASSIGNED: Delivery.OFF})
    preferences_set(user=users[4], choices={Kind.LEAD_ASSIGNED: Delivery.OFF})

    def queries_to_send(batch):
        for user in batch:
            tell(user, "A lead was assigned to you")
            tell(user, "Another lead", kind=Kind.AGREEMENT_ACTIVE)
        # Both due now, one of them a digest's.
        Notification.objects.filter(recipient__in=batch).update(email_due_at=NOW)
        with CaptureQueriesContext(connection) as queries:
            send_emails([u.pk for u in batch])
        return len(queries)

    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        small, large = queries_to_send(users[:2]), queries_to_send(users[2:])
    assert small == large
    # One user of each batch turned assignments off: they get the digest's message only.
    assert len(mail.outbox) == (1 + 2) + (5 + 6)


@override_settings(EMAIL_BACKEND=f"{__name__}.SessionCountingBackend")
def test_a_batch_of_users_is_sent_over_one_smtp_session():
    SessionCountingBackend.sessions = 0
    users = reps(5)
    for user in users:
        tell(user, "A lead was assigned to you")
    send_emails([u.pk for u in users])
    assert SessionCountingBackend.sessions == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
