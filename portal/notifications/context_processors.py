from portal.notifications.selectors import BELL_MOST, unread_count


def bell(request) -> dict:
    """The unread count for the navigation bar's bell, counted only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": lambda: unread_count(user=user), "bell_most": BELL_MOST}
