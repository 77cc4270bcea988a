"""Sending users' due notifications by e-mail: claimed first, so a duplicate message, a sweep
and a retry never send one twice while a send is under way; paced, so a user told of many
things in a short time gets one message listing them rather than one each.

A send takes a batch of users (everyone a routed batch told) at once: one claim, one read of
the users and their choices, one SMTP session and one mark of what went, whatever the batch's
size. Sending each user apart cost about 7 queries, a template render and an SMTP session
per user, and at 200 leads a second most messages listed one lead (docs/performance.md).

Pacing: a user sent a message is quiet for NOTIFICATION_EMAIL_QUIET_SECONDS (`EmailPace`):
what they are told meanwhile is due when the quiet ends (`services.notices_send` reads the
pace when it writes; a claim finds what was written before the pace was set), and the send
queues a follow-up for that moment (the task). The first news of a quiet user goes at once.
"""

from collections import defaultdict
from collections.abc import Iterable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from portal.notifications.models import Delivery, EmailPace, Notification, NotificationPreference

# A sender's claim on due e-mails lasts this long: past it (the worker died mid-send) the
# sweeper queues them again. Twice the longest a task runs, as the broker redelivers.
EMAIL_LEASE = timedelta(seconds=2 * settings.CELERY_TASK_TIME_LIMIT)


def email_quiet() -> timedelta:
    return timedelta(seconds=settings.LEADBRIDGE_EMAIL_QUIET_SECONDS)


def emails_claim(
    *, recipient_ids: Iterable[int], now: datetime | None = None
) -> list[Notification]:
    """Claim the due e-mails of `recipient_ids` for one send: their due time moves a lease
    ahead, so a second sender (a sweep, a duplicate message) finds nothing until the lease
    ends. A recipient still quiet after their last message is not claimed: what is due for
    them waits for the quiet's end."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(recipient_id__in=list(recipient_ids), email_due_at__lte=now)
            .order_by("id")
        )
        if not due:
            return []
        quiet = set(
            EmailPace.objects.filter(
                user_id__in={n.recipient_id for n in due}, quiet_until__gt=now
            ).values_list("user_id", flat=True)
        )
        claimed = [n for n in due if n.recipient_id not in quiet]
        if quiet:
            until = EmailPace.objects.filter(user_id=OuterRef("recipient_id"))
            Notification.objects.filter(
                pk__in=[n.pk for n in due if n.recipient_id in quiet]
            ).update(email_due_at=Subquery(until.values("quiet_until")[:1]))
        if claimed:
            Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(
                email_due_at=now + EMAIL_LEASE
            )
    return claimed


class Sent(NamedTuple):
    """What one send did: notifications e-mailed, the users who got a message (quiet now),
    and the first error (those users' claims were given back, for the task's retry)."""

    emailed: int
    told: list[int]
    error: Exception | None = None


def emails_send(*, recipient_ids: Iterable[int]) -> Sent:
    """Send the due e-mails of `recipient_ids`: to each, what is immediate in one message,
    what waited for the digest in another. A failed message gives its claims back (due at
    once) and does not stop the others. A worker that dies between a message and the final
    mark sends the batch's messages again once its lease runs out (as one message's, before)."""
    due = emails_claim(recipient_ids=recipient_ids)
    if not due:
        return Sent(0, [])
    ids = {n.recipient_id for n in due}
    users = {
        user.pk: user
        for user in get_user_model().objects.filter(pk__in=ids, is_active=True).exclude(email="")
    }
    turned_off = _turned_off(users)
    wanted: dict[int, list[Notification]] = defaultdict(list)
    dropped = []
    for n in due:
        if n.recipient_id in users and n.kind not in turned_off[n.recipient_id]:
            wanted[n.recipient_id].append(n)
        else:
            dropped.append(n.pk)
    if dropped:
        Notification.objects.filter(pk__in=dropped).update(email_due_at=None)
    return _deliver(users, wanted)


def _deliver(users: dict, wanted: dict[int, list[Notification]]) -> Sent:
    sent: list[int] = []
    given_back: list[int] = []
    told: list[int] = []
    error = None
    # One SMTP session for the batch (opened by the first message), not one per message.
    connection = get_connection()
    try:
        for user_id, notifications in wanted.items():
            for digest in (False, True):
                batch = [n for n in notifications if (n.delivery == Delivery.DIGEST) == digest]
                if not batch:
                    continue
                ids = [n.pk for n in batch]
                try:
                    connection.open()
                    connection.send_messages([_message(users[user_id], batch, digest=digest)])
                except Exception as failed:
                    error = error or failed
                    given_back.extend(ids)
                    with suppress(Exception):
                        connection.close()  # the next message opens a fresh session
                else:
                    sent.extend(ids)
                    if not told or told[-1] != user_id:
                        told.append(user_id)
    finally:
        with suppress(Exception):
            connection.close()
        now = timezone.now()
        Notification.objects.filter(pk__in=given_back).update(email_due_at=now)
        Notification.objects.filter(pk__in=sent).update(email_due_at=None, emailed_at=now)
        _quiet(told, now)
    return Sent(len(sent), told, error)


def _quiet(user_ids: list[int], now: datetime) -> None:
    """`user_ids` were sent a message at `now`: their next one waits for the quiet's end."""
    if not user_ids or not settings.LEADBRIDGE_EMAIL_QUIET_SECONDS:
        return
    until = now + email_quiet()
    EmailPace.objects.bulk_create(
        [EmailPace(user_id=user_id, quiet_until=until) for user_id in user_ids],
        update_conflicts=True,
        unique_fields=["user"],
        update_fields=["quiet_until"],
    )


def _turned_off(user_ids: Iterable[int]) -> dict[int, set[str]]:
    off: dict[int, set[str]] = defaultdict(set)
    rows = NotificationPreference.objects.filter(
        user_id__in=list(user_ids), delivery=Delivery.OFF
    ).values_list("user_id", "kind")
    for user_id, kind in rows:
        off[user_id].add(kind)
    return off


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
