"""Django system checks of the intake's settings."""

from django.conf import settings
from django.core import checks

# A form's minute must take posts from at least this many sources at their own limit.
MIN_SOURCES_PER_FORM = 10


def rate_limits_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """The per-IP limit well below the per-form one, so one source cannot fill a form's minute
    (only posts both limits let through count against the form: ratelimit.py)."""
    per_ip = settings.RATE_LIMIT_PER_IP_PER_MINUTE
    per_form = settings.RATE_LIMIT_PER_FORM_PER_MINUTE
    if not settings.RATE_LIMIT_REDIS_URL or per_form <= 0:
        return []
    if per_ip > 0 and per_ip * MIN_SOURCES_PER_FORM <= per_form:
        return []
    return [
        checks.Warning(
            f"RATE_LIMIT_PER_IP_PER_MINUTE ({per_ip}) lets one client IP fill much of a form's "
            f"RATE_LIMIT_PER_FORM_PER_MINUTE ({per_form}) and shut it for everyone.",
            hint=(
                f"Set the per-IP limit above 0 and at most 1/{MIN_SOURCES_PER_FORM} of the "
                "per-form limit, or set the per-form limit to 0 (no limit)."
            ),
            id="capture.W001",
        )
    ]
