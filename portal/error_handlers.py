"""One error contract: every refusal becomes the README's JSON shape or a page for people.

- `api_exception_handler` (DRF's EXCEPTION_HANDLER) answers DomainErrors, DRF's own
  exceptions and Django's request errors raised in an API view.
- `ErrorMiddleware` answers a DomainError raised in a page with a message and a way back (or an
  error page with its status), a database outage with a 503 page, and makes sure nothing under
  /api/ ever answers anything but JSON.
- `bad_request`, `permission_denied`, `page_not_found` and `server_error` are Django's
  handler400/403/404/500 (portal/urls.py): JSON under /api/, the usual pages elsewhere.
"""

import logging
import math
import sys
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.core import exceptions as django_exceptions
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from portal.errors import (
    ALL_FIELDS,
    DomainError,
    ErrorList,
    InvalidFields,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    Unavailable,
    single_error,
)

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
DATABASE_UNAVAILABLE = OperationalError | InterfaceError

# The code a bare status gets when something other than our handlers made the response.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}
# Headers that still mean something once an error response is rewritten as JSON.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def refusal_for(exc: Exception) -> DomainError | None:
    """The DomainError a framework or database exception amounts to; None for a bug."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, drf_exceptions.APIException):
        return _from_drf(exc)
    if isinstance(exc, Http404):
        return NotFound("Not found.")
    if isinstance(exc, django_exceptions.PermissionDenied):
        return PermissionDenied("You do not have permission to do this.")
    if isinstance(exc, django_exceptions.RequestDataTooBig):
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return PayloadTooLarge(f"The request body is larger than {limit}.")
    if isinstance(exc, django_exceptions.TooManyFieldsSent | django_exceptions.TooManyFilesSent):
        return DomainError("The request has too many fields.", code="too_many_fields")
    if isinstance(exc, django_exceptions.SuspiciousOperation | django_exceptions.BadRequest):
        # Their messages can name hosts and settings: not for the caller.
        return DomainError("The request could not be read.", code="bad_request")
    if isinstance(exc, DATABASE_UNAVAILABLE):
        logger.error("Database unavailable", exc_info=exc)
        return Unavailable("The service is briefly unavailable; please try again in a moment.")
    return None


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER. None lets a bug reach Django, which logs it (handler500)."""
    error = refusal_for(exc)
    if error is None:
        return None
    set_rollback()
    return Response(error.as_json(), status=error.status, headers=_headers(exc, error))


class ErrorMiddleware:
    """DomainErrors and database outages in views; JSON for everything under /api/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if wants_json(request) and response.status_code >= 400 and not _is_json(response):
            return _as_json(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, DomainError | DATABASE_UNAVAILABLE):
            return None
        error = refusal_for(exception)
        if wants_json(request):
            return json_error(error, headers=_headers(exception, error))
        if isinstance(error, Unavailable):
            return unavailable_page(error)
        back = _referer_on_this_site(request)
        if request.method not in ("GET", "HEAD") and back:
            # After a refused action, the page the person acted on, saying why.
            messages.error(request, error.message, fail_silently=True)
            return HttpResponseRedirect(back)
        return error_page(request, error)


def json_error(error: DomainError, *, headers: dict | None = None) -> JsonResponse:
    return JsonResponse(error.as_json(), status=error.status, headers=headers)


def error_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    context = {"title": HTTPStatus(error.status).phrase, "message": error.message}
    return render(request, "error.html", context, status=error.status)


def unavailable_page(error: Unavailable) -> HttpResponse:
    # Rendered without the request: its context processors could need the database.
    return HttpResponse(
        loader.render_to_string("503.html"),
        status=error.status,
        headers={"Retry-After": str(error.retry_after_seconds)},
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    error = refusal_for(exception) or DomainError("Bad request.", code="bad_request")
    if wants_json(request):
        return json_error(error)
    return error_page(request, error)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return json_error(PermissionDenied("You do not have permission to do this."))
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if wants_json(request):
        return json_error(NotFound("Not found."))
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still in sys.exc_info().
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_UNAVAILABLE):
        error = refusal_for(exc)
        if wants_json(request):
            return json_error(error, headers=_headers(exc, error))
        return unavailable_page(error)
    if wants_json(request):
        message = "Something went wrong on our side. It has been logged."
        return JsonResponse(single_error("server_error", message), status=500)
    return defaults.server_error(request)


def _from_drf(exc: drf_exceptions.APIException) -> DomainError:
    if isinstance(exc, drf_exceptions.ValidationError):
        return InvalidFields(_flatten(exc.detail) or _flatten(["Invalid input."]))
    if isinstance(exc, drf_exceptions.Throttled):  # one code for 429, as RateLimited has
        return DomainError(str(exc.detail), code=RateLimited.code, status=exc.status_code)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return DomainError(str(exc.detail), code=code, status=exc.status_code)


def _flatten(detail, field: str = ALL_FIELDS) -> dict[str, ErrorList]:
    """DRF's nested error details as {"field" or "field.sub": [{message, code}]}."""
    errors: dict[str, ErrorList] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key)
            if name == api_settings.NON_FIELD_ERRORS_KEY:
                name = field
            elif field != ALL_FIELDS:
                name = f"{field}.{name}"
            for sub, problems in _flatten(value, name).items():
                errors.setdefault(sub, []).extend(problems)
    elif isinstance(detail, list):
        for position, item in enumerate(detail):
            name = f"{field}.{position}" if isinstance(item, dict | list) else field
            for sub, problems in _flatten(item, name).items():
                errors.setdefault(sub, []).extend(problems)
    else:
        code = getattr(detail, "code", None) or "invalid"
        errors[field] = [{"message": str(detail), "code": code}]
    return errors


def _headers(exc: Exception, error: DomainError) -> dict[str, str]:
    headers = {}
    if isinstance(error, Unavailable | RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(math.ceil(exc.wait))
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    return headers


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _as_json(response: HttpResponse) -> JsonResponse:
    """A non-JSON error response under /api/ (Django's own 405, a debug page) in the shape."""
    status = response.status_code
    code = STATUS_CODES.get(status, "error")
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return JsonResponse(single_error(code, response.reason_phrase), status=status, headers=headers)


def _referer_on_this_site(request: HttpRequest) -> str | None:
    referer = request.headers.get("Referer", "")
    allowed = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return referer if referer and allowed else None
