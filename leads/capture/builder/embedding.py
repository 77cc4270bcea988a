"""Which sites may embed a form: CORS on its intake routes, frame-ancestors on its hosted page.

django-cors-headers opens CORS only on `CORS_URLS_REGEX` (settings) and, there, only when
`cors_for_listed_origins` says the form behind the URL lists the caller's origin. The signal
rather than a decorator on each view: the middleware answers a preflight (OPTIONS) before any
view runs, so a decorator would have to answer preflights itself, route by route; the signal
sees preflights and posts alike, and this one function holds the rule for every intake route.
"""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from leads.capture.models import Form
from leads.capture.selectors import allowed_origins_for_route

CORS_ROUTES = frozenset(
    {
        "capture:api_form_definition",
        "capture:api_submission_create",
        "capture:hubspot_submit",
        "capture:hubspot_v2_submit",
    }
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
    """Let the form's listed sites show this page in an iframe; nobody else.

    The rest of the page's policy is the site's (CONTENT_SECURITY_POLICY, where
    frame-ancestors is 'none'); django-csp's middleware writes it with this one directive
    replaced. X-Frame-Options (DENY) stays for a form that lists no site: browsers that
    understand frame-ancestors ignore it, older ones refuse the frame."""
    if form.allowed_origins:
        response._csp_replace = {"frame-ancestors": list(form.allowed_origins)}
        response.xframe_options_exempt = True
    return response


# What counts as a view (the form's statistics): a GET after which someone can see the form.
FRAMES = frozenset({"iframe", "frame"})


def embed_definition_seen(request: HttpRequest, form: Form) -> bool:
    """The embed's definition GET: seen only when a listed site asked for it (its `Origin`),
    the one case in which the browser hands it to the page, which then draws the form. A
    browser always sends `Origin` on that cross-origin fetch; without one (a server, a
    crawler, curl) or from another site, nobody sees the form, so no view is counted."""
    origin = request.headers.get("Origin", "")
    return bool(origin) and form.allows_origin(origin)


def hosted_page_seen(request: HttpRequest, form: Form) -> bool:
    """The hosted page's GET: seen, unless the browser says it loads it into a frame
    (`Sec-Fetch-Dest`) for a site the form does not list, which it will then refuse to show
    (`frame-ancestors`, or `X-Frame-Options: DENY` for a form that lists none). The framing
    site is the `Referer`'s origin; a framed load without a Referer (the site's referrer
    policy hides it) counts when the form lists a site at all, as only such a site can show
    it."""
    if request.headers.get("Sec-Fetch-Dest", "") not in FRAMES:
        return True
    referer = request.headers.get("Referer", "")
    try:
        parts = urlsplit(referer)
    except ValueError:
        return False
    if not (parts.scheme and parts.netloc):
        return bool(form.allowed_origins)
    return form.allows_origin(f"{parts.scheme}://{parts.netloc}")
