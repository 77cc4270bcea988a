"""Sending a user's due notifications by e-mail: claimed first, so a duplicate message, a
sweep and a retry never send one twice while a send is under way."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from portal.notifications.models import Delivery, Notification, NotificationPreference

# A sender's claim on due e-mails lasts this long: past it (the worker died mid-send) the
# sweeper queues them again. Twice the longest a task runs, as the broker redelivers.
EMAIL_LEASE = timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)


def emails_claim(*, recipient_id: int, now: datetime | None = None) -> list[Notification]:
    """Claim `recipient_id`'s due e-mails for one send: their due time moves a lease ahead,
    so a second sender (a sweep, a duplicate message) finds nothing until the lease ends."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(recipient_id=recipient_id, email_due_at__lte=now)
            .order_by("id")
        )
        Notification.objects.filter(pk__in=[n.pk for n in due]).update(
            email_due_at=now + EMAIL_LEASE
        )
    return due


def emails_send(*, recipient_id: int) -> int:
    """Send `recipient_id`'s due e-mails: what is immediate in one message, what waited for
    the digest in another; the number of notifications e-mailed.

    A failed send gives its claim back (due at once) and raises, for the task to retry.
    """
    due = emails_claim(recipient_id=recipient_id)
    if not due:
        return 0
    user = get_user_model().objects.filter(pk=recipient_id).first()
    turned_off = _turned_off(recipient_id)
    wanted = [n for n in due if n.kind not in turned_off]
    if user is None or not user.is_active or not user.email:
        wanted = []
    dropped = [n.pk for n in due if n not in wanted]
    Notification.objects.filter(pk__in=dropped).update(email_due_at=None)
    sent = 0
    for digest in (False, True):
        batch = [n for n in wanted if (n.delivery == Delivery.DIGEST) == digest]
        if not batch:
            continue
        ids = [n.pk for n in batch]
        try:
            _message(user, batch, digest=digest).send()
        except Exception:
            Notification.objects.filter(pk__in=ids).update(email_due_at=timezone.now())
            raise
        Notification.objects.filter(pk__in=ids).update(email_due_at=None, emailed_at=timezone.now())
        sent += len(batch)
    return sent


def _turned_off(recipient_id: int) -> set[str]:
    return set(
        NotificationPreference.objects.filter(
            user_id=recipient_id, delivery=Delivery.OFF
        ).values_list("kind", flat=True)
    )


def _message(user, notifications: list[Notification], *, digest: bool) -> EmailMessage:
    count = len(notifications)
    if digest:
        subject = f"LeadBridge daily digest: {count} notification{'s' if count != 1 else ''}"
    elif count == 1:
        subject = f"LeadBridge: {notifications[0].title}"
    else:
        subject = f"LeadBridge: {count} notifications"
    body = render_to_string(
        "notifications/email.txt",
        {
            "user": user,
            "notifications": notifications,
            "digest": digest,
            "site": settings.LEADBRIDGE_SITE_URL.rstrip("/"),
        },
    )
    # The SMTP backend gives up after EMAIL_TIMEOUT (settings), so a stalled server fails
    # the send (and it is retried) instead of holding the worker until its time limit.
    return EmailMessage(subject=subject[:200], body=body, to=[user.email])


def emails_due_recipients(
    *, before: datetime, digest_only: bool = False, limit: int = 1000
) -> list[int]:
    """Who has e-mails due before `before` (the digest's, or everything a lost message
    left behind), read from the partial index of unsent e-mails."""
    due = Notification.objects.filter(email_due_at__lte=before)
    if digest_only:
        due = due.filter(delivery=Delivery.DIGEST)
    recipients = due.values_list("recipient_id", flat=True).distinct().order_by("recipient_id")
    return list(recipients[:limit])
