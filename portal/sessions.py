"""Idle expiry of sessions, without a session write on every request.

A session lasts SESSION_COOKIE_AGE from its last save. SESSION_SAVE_EVERY_REQUEST would make
that "since the last request", at the price of an UPDATE and a Set-Cookie on every page and
every poll; here a signed-in user's session is saved at most once per
SESSION_REFRESH_SECONDS, so it expires SESSION_COOKIE_AGE after the last request, give or take
that much.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse

TOUCHED = "_leadbridge_touched"


def touched_at_login(sender, request, user, **kwargs) -> None:
    """user_logged_in: a login is saved anyway, so the first page after it need not be."""
    if request is not None and hasattr(request, "session"):
        request.session[TOUCHED] = int(time.time())


class IdleSessionMiddleware:
    """Below SessionMiddleware: marks the session modified, and SessionMiddleware saves it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only a session the request already read (no extra query for the public pages), and
        # only a signed-in one: a visitor's empty session is never written.
        if session is None or not session.accessed or SESSION_KEY not in session:
            return response
        now = int(time.time())
        if now - session.get(TOUCHED, 0) >= settings.SESSION_REFRESH_SECONDS:
            session[TOUCHED] = now
        return response
