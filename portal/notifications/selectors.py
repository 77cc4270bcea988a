"""Reading a user's notifications and choices: every read is of the user's own rows only."""

from django.db.models import QuerySet

from portal.notifications.models import (
    DEFAULT_DELIVERY,
    Kind,
    Notification,
    NotificationPreference,
)

# The bell shows "99+" past this: counting stops there, so a rep with thousands unread costs
# every page what one with a hundred does.
BELL_MOST = 99


def unread_count(*, user) -> int:
    """The bell's number, up to BELL_MOST + 1 (the partial index of unread rows)."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    return unread[: BELL_MOST + 1].count()


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """`user`'s notifications, newest first."""
    mine = Notification.objects.filter(recipient=user).order_by("-id")
    return mine.filter(read_at__isnull=True) if unread_only else mine


def preferences_for(*, user) -> dict[str, str]:
    """How each kind reaches `user`: their choice, or the kind's default."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, DEFAULT_DELIVERY[kind]) for kind in Kind.values}
