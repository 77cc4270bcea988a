"""Writing notifications, reading them off, and choosing how they come (emails.py sends them).

`notices_send` is called by the one place that says who hears of a change (leads/audience.py
for lead events; the agreement and import services for theirs), inside the transaction of
the change: the notifications commit with it or not at all, and their e-mail is queued only
after the commit. A batch of notices is one query for the recipients and their choices and
one INSERT, whatever its size.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from portal.errors import DomainError, NotFound
from portal.notifications.models import (
    DEFAULT_DELIVERY,
    Delivery,
    Kind,
    Notification,
    NotificationPreference,
)
from portal.notifications.tasks import queue_emails
from portal.sql import columns_sql, copy_rows


class Notice(NamedTuple):
    """One thing to tell one user: what and where, in words the sender chose. A tuple: the
    ladder makes four per due lead (a frozen dataclass's `__init__` cost three times more)."""

    recipient_id: int
    kind: str
    title: str
    url: str = ""
    detail: str = ""
    lead_id: int | None = None


def notices_send(notices: Iterable[Notice], *, at: datetime | None = None) -> int:
    """Write `notices` in the caller's transaction; the number written.

    A recipient who is inactive or gone is told nothing; one without an e-mail address is
    told in the portal only. The same kind of notice of the same lead (or the same notice)
    twice in a batch, to one person, is written once. Immediate e-mails are queued after
    commit, but a recipient quiet after their last e-mail (`emails`) has theirs due when the
    quiet ends, sent then by the follow-up that e-mail's sender queued.
    """
    firsts: dict[object, Notice] = {}
    for notice in notices:
        # One change may write two events that tell a rep the same of the same lead (a
        # breach and the reassignment it causes): the first one says it.
        key = (notice.recipient_id, notice.kind, notice.lead_id) if notice.lead_id else notice
        firsts.setdefault(key, notice)
    unique = list(firsts.values())
    if not unique:
        return 0
    now = at or timezone.now()
    reachable = _recipients({notice.recipient_id for notice in unique})
    due_by = {delivery: email_due_at(delivery, now) for delivery in Delivery.values}
    rows = []
    at_once: set[int] = set()
    for notice in unique:
        if notice.recipient_id not in reachable:
            continue
        email, chosen, quiet_until = reachable[notice.recipient_id]
        delivery = chosen.get(notice.kind, DEFAULT_DELIVERY[notice.kind]) if email else Delivery.OFF
        due = due_by[delivery]
        if delivery == Delivery.IMMEDIATE and quiet_until and quiet_until > now:
            due = quiet_until
        elif delivery == Delivery.IMMEDIATE:
            at_once.add(notice.recipient_id)
        rows.append(
            (
                notice.recipient_id,
                notice.kind,
                notice.title[:300],
                notice.detail,
                notice.url[:500],
                notice.lead_id,
                now,
                delivery,
                due,
            )
        )
    _inserted(rows)
    immediate = sorted(at_once)
    if immediate:
        # robust: a broker or a mail server down never fails the change that was committed.
        transaction.on_commit(partial(queue_emails, immediate), robust=True)
    return len(rows)


def _recipients(ids: set[int]) -> dict[int, tuple[str, dict[str, str], datetime | None]]:
    """Active users among `ids`: their address, their choices by kind and until when their
    e-mail is quiet, in one query."""
    found: dict[int, tuple[str, dict[str, str], datetime | None]] = {}
    rows = (
        get_user_model()
        .objects.filter(pk__in=ids, is_active=True)
        .values_list(
            "pk",
            "email",
            "notification_preferences__kind",
            "notification_preferences__delivery",
            "email_pace__quiet_until",
        )
    )
    for pk, email, kind, delivery, quiet_until in rows:
        found.setdefault(pk, (email, {}, quiet_until))
        if kind:
            found[pk][1][kind] = delivery
    return found


_COLUMNS = (
    "recipient_id",
    "kind",
    "title",
    "detail",
    "url",
    "lead_id",
    "created_at",
    "delivery",
    "email_due_at",
)
COPY_NOTIFICATIONS = f"COPY {columns_sql(Notification, _COLUMNS)} FROM STDIN"


def _inserted(rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_rows(COPY_NOTIFICATIONS, rows)
        return
    Notification.objects.bulk_create(
        Notification(**dict(zip(_COLUMNS, row, strict=True))) for row in rows
    )


def email_due_at(delivery: str, now: datetime) -> datetime | None:
    """When a notification's e-mail goes: now, at the next digest, or never (None)."""
    if delivery == Delivery.IMMEDIATE:
        return now
    if delivery == Delivery.DIGEST:
        return next_digest_at(now)
    return None


def next_digest_at(now: datetime) -> datetime:
    """The next daily digest after `now`: NOTIFICATION_DIGEST_HOUR o'clock in TIME_ZONE."""
    local = timezone.localtime(now)
    at = local.replace(hour=settings.LEADBRIDGE_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if at <= local:
        # A day later by the calendar, not 24 hours: the hour stays the same across DST.
        day = (at + timedelta(days=1)).date()
        at = datetime(
            day.year,
            day.month,
            day.day,
            settings.LEADBRIDGE_DIGEST_HOUR,
            tzinfo=timezone.get_current_timezone(),
        )
    return at


def notification_read(*, user, notification_id: int) -> None:
    """`user` has read one of their notifications (again is harmless); someone else's is
    not found, as if it did not exist."""
    mine = Notification.objects.filter(pk=notification_id, recipient=user)
    if not mine.filter(read_at__isnull=True).update(read_at=timezone.now()) and not mine.exists():
        raise NotFound("There is no such notification of yours.")


def notifications_read_all(*, user) -> int:
    """Every unread notification of `user` is read; how many were unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def preferences_set(*, user, choices: Mapping[str, str]) -> None:
    """`user` chooses how each kind reaches them; a kind left at its default keeps no row.

    Notifications already written keep their delivery, except that e-mails still waiting
    for a kind now turned off are not sent (see `emails_send`).
    """
    for kind, delivery in choices.items():
        if kind not in Kind.values:
            raise DomainError(f"There is no kind of notification {kind!r}.", field=kind)
        if delivery not in Delivery.values:
            raise DomainError(
                f"Choose one of: {', '.join(Delivery.values)}.", code="invalid_choice", field=kind
            )
    with transaction.atomic():
        mine = NotificationPreference.objects.filter(user=user)
        mine.filter(kind__in=list(choices)).delete()
        NotificationPreference.objects.bulk_create(
            NotificationPreference(user=user, kind=kind, delivery=delivery)
            for kind, delivery in choices.items()
            if delivery != DEFAULT_DELIVERY[kind]
        )
