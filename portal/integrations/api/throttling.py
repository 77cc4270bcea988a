from django.conf import settings
from rest_framework.throttling import BaseThrottle

from leads.capture.intake.ratelimit import Limit, limits_passed
from portal.net import client_ip


class ApiRateThrottle(BaseThrottle):
    """Requests per token (or per session user), else per address: API_RATE in settings,
    counted in one-minute windows by the intake's limiter, whose counts every web process
    shares through Redis (RATE_LIMIT_REDIS_URL; none set: no limit, as for the intake).
    Over it: 429 with Retry-After, in the one error shape (portal/error_handlers.py)."""

    def __init__(self):
        self.retry_after: int | None = None

    def allow_request(self, request, view) -> bool:
        self.retry_after = limits_passed([Limit("api", self.ident(request), per_minute())])
        return self.retry_after is None

    def wait(self) -> int | None:
        return self.retry_after

    def ident(self, request) -> str:
        token = request.auth
        if getattr(token, "pk", None):
            return f"token-{token.pk}"
        if request.user and request.user.is_authenticated:
            return f"user-{request.user.pk}"
        return f"addr-{client_ip(request)}"


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def per_minute() -> int:
    """API_RATE ("600/minute", "10/second", "20000/hour") as requests a minute."""
    requests, _, unit = settings.API_RATE.partition("/")
    return max(1, int(requests) * 60 // UNITS[unit[:1]])
