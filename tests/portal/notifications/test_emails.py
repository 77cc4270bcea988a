"""E-mail, sent by the task through Django's mail backend (locmem in tests): at once, in the
daily digest, or not at all; each notification once, a failed send retried."""

import datetime
from smtplib import SMTPException, SMTPServerDisconnected
from unittest import mock

import pytest
import time_machine
from celery.exceptions import Retry
from django.conf import settings
from django.core import mail
from django.core.mail.backends import locmem
from django.test import override_settings

from portal.accounts.roles import Role
from portal.notifications import emails
from portal.notifications.models import Delivery, Kind, Notification
from portal.notifications.services import Notice, notices_send, preferences_set
from portal.notifications.tasks import send_digests, send_emails, sweep_emails
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 5, 14, 30, tzinfo=datetime.UTC)


def tell(user, kind=Kind.LEAD_ASSIGNED, title="Ana was assigned to you"):
    notices_send(
        [Notice(recipient_id=user.pk, kind=kind, title=title, url="/leads/1/", detail="Why.")]
    )


@time_machine.travel(NOW, tick=False)
def test_an_immediate_notification_is_emailed_by_the_task_after_commit(
    rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        tell(rep)
    assert mail.outbox == []  # nothing is sent before the commit
    with override_settings(LEADBRIDGE_SITE_URL="https://leads.example.com/"):
        for callback in queued:
            callback()  # the commit: the task runs (in-process in tests)
    [message] = mail.outbox
    assert message.to == ["rep@leadbridge.example"]
    assert message.subject == "LeadBridge: Ana was assigned to you"
    assert "https://leads.example.com/leads/1/" in message.body
    assert "https://leads.example.com/notifications/settings/" in message.body
    assert Notification.objects.get().emailed_at == NOW
    assert Notification.objects.get().email_due_at is None
    send_emails(rep.pk)  # a second message for the same user: nothing left to send
    assert len(mail.outbox) == 1


def test_a_kind_turned_off_is_not_emailed(rep, django_capture_on_commit_callbacks):
    preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: Delivery.OFF})
    with django_capture_on_commit_callbacks(execute=True) as queued:
        tell(rep)
    assert queued == []  # no e-mail to queue
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=rep).count() == 1


def test_turning_a_kind_off_drops_its_emails_still_waiting(rep):
    with time_machine.travel(NOW, tick=False):
        preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: Delivery.DIGEST})
        tell(rep)
        preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: Delivery.OFF})
    with time_machine.travel(NOW + datetime.timedelta(days=1), tick=False):
        send_digests()
    assert mail.outbox == []
    assert Notification.objects.get().email_due_at is None


@override_settings(LEADBRIDGE_DIGEST_HOUR=8)
def test_the_daily_digest_sends_what_waited_for_it_in_one_message(rep, other_rep):
    preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: Delivery.DIGEST})
    with time_machine.travel(NOW, tick=False):
        tell(rep)
        tell(rep, title="Bea was assigned to you")
        tell(rep, kind=Kind.AGREEMENT_ACTIVE, title="Agreement v2 is active")  # digest by default
        send_digests()  # 14:30: not the digest's hour yet
    assert mail.outbox == []
    with time_machine.travel(datetime.datetime(2025, 3, 6, 8, 0, tzinfo=datetime.UTC), tick=False):
        send_digests()
    [digest] = mail.outbox
    assert digest.to == ["rep@leadbridge.example"]
    assert digest.subject == "LeadBridge daily digest: 3 notifications"
    for title in ("Ana was assigned", "Bea was assigned", "Agreement v2 is active"):
        assert title in digest.body
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_the_task_declares_its_queue_time_limits_and_retries_on_a_mail_server_error():
    assert send_emails.queue == settings.CELERY_NOTIFY_QUEUE == settings.CELERY_BULK_QUEUE
    assert send_emails.time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert send_emails.acks_late
    assert SMTPException in send_emails.autoretry_for
    assert OSError in send_emails.autoretry_for
    assert send_emails.max_retries == 5


def test_a_failed_send_gives_its_claim_back_for_the_retry(rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        tell(rep)
    with (
        mock.patch.object(
            locmem.EmailBackend, "send_messages", side_effect=SMTPServerDisconnected("gone")
        ) as send,
        pytest.raises(Retry),
    ):
        send_emails.apply((rep.pk,))  # the task asks Celery to run it again later
    assert send.call_count == 1
    notification = Notification.objects.get()
    assert notification.emailed_at is None
    assert notification.email_due_at is not None  # due again at once: the retry sends it
    send_emails(rep.pk)
    assert len(mail.outbox) == 1


def test_a_claimed_email_is_not_sent_twice_while_its_sender_works(rep):
    with time_machine.travel(NOW, tick=False):
        tell(rep)
        claimed = emails.emails_claim(recipient_ids=[rep.pk])
    assert len(claimed) == 1
    with time_machine.travel(NOW + datetime.timedelta(minutes=1), tick=False):
        sweep_emails()
        assert emails.emails_send(recipient_ids=[rep.pk]).emailed == 0
    assert mail.outbox == []
    # A sender that died leaves its claim to run out; then the sweeper sends it.
    with time_machine.travel(NOW + emails.EMAIL_LEASE + datetime.timedelta(minutes=2), tick=False):
        sweep_emails()
    assert len(mail.outbox) == 1


def test_a_batch_telling_many_users_queues_one_message_and_each_gets_their_email(
    django_capture_on_commit_callbacks,
):
    users = [UserFactory(role=Role.SALES_REP, email=f"rep{i}@leadbridge.example") for i in range(3)]
    notices = [
        Notice(recipient_id=u.pk, kind=Kind.LEAD_ASSIGNED, title="A lead", url="/leads/1/")
        for u in users
    ]
    wrapped = mock.patch.object(send_emails, "apply_async", wraps=send_emails.apply_async)
    with wrapped as sent, django_capture_on_commit_callbacks(execute=True):
        notices_send(notices)

    assert sent.call_count == 1
    assert sorted(message.to[0] for message in mail.outbox) == sorted(u.email for u in users)


def test_one_failing_recipient_does_not_stop_the_others_and_the_retry_sends_only_theirs(rep):
    other = UserFactory(role=Role.SALES_REP, email="other@leadbridge.example")
    tell(rep)
    tell(other)
    real = locmem.EmailBackend.send_messages

    def failing_for_rep(backend, messages):
        if messages[0].to == [rep.email]:
            raise SMTPServerDisconnected("gone")
        return real(backend, messages)

    failing = mock.patch.object(locmem.EmailBackend, "send_messages", failing_for_rep)
    with failing, pytest.raises(SMTPServerDisconnected):
        send_emails.run([rep.pk, other.pk])
    assert [message.to for message in mail.outbox] == [["other@leadbridge.example"]]

    send_emails([rep.pk, other.pk])  # the retry
    assert sorted(message.to[0] for message in mail.outbox) == [
        "other@leadbridge.example",
        "rep@leadbridge.example",
    ]
