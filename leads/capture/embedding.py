"""Which sites may embed a form: CORS on its intake routes, frame-ancestors on its hosted page.

django-cors-headers opens CORS only on `CORS_URLS_REGEX` (settings) and, there, only when
`cors_for_listed_origins` says the form behind the URL lists the caller's origin. The signal
rather than a decorator on each view: the middleware answers a preflight (OPTIONS) before any
view runs, so a decorator would have to answer preflights itself, route by route; the signal
sees preflights and posts alike, and this one function holds the rule for every intake route.
"""

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from leads.capture.models import Form
from leads.capture.selectors import allowed_origins_for_route

CORS_ROUTES = frozenset(
    {"capture:api_form_definition", "capture:api_submission_create", "capture:hubspot_submit"}
)


def cors_for_listed_origins(sender, request: HttpRequest, **kwargs) -> bool:
    """django-cors-headers' check_request_enabled: is this origin listed by this form?"""
    origin = request.headers.get("Origin", "")
    if not origin or not re.match(settings.CORS_URLS_REGEX, request.path_info):
        return False
    # The middleware asks once for a preflight and once per response; one lookup serves both.
    cached = getattr(request, "_leadbridge_cors_allowed", None)
    if cached is None:
        cached = request._leadbridge_cors_allowed = _route_allows(request.path_info, origin)
    return cached


def _route_allows(path: str, origin: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if match.view_name not in CORS_ROUTES:
        return False
    kwargs = match.kwargs
    origins = allowed_origins_for_route(slug=kwargs.get("slug"), guid=kwargs.get("guid"))
    return normalise_origin(origin) in origins


def normalise_origin(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


def frame_for_listed_origins(response: HttpResponse, form: Form) -> HttpResponse:
    """Let the form's listed sites show this page in an iframe; nobody else (DENY stays)."""
    if form.allowed_origins:
        response["Content-Security-Policy"] = "frame-ancestors " + " ".join(form.allowed_origins)
        response.xframe_options_exempt = True
    return response
