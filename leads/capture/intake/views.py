import functools
from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import get_script_prefix, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leads.capture.builder.embedding import frame_for_listed_origins, hosted_page_seen
from leads.capture.builder.forms import SubmissionForm
from leads.capture.intake.counters import form_viewed
from leads.capture.intake.decoding import Posted, posted_fields
from leads.capture.intake.pipeline import bind, by_slug, post_form, spam_signals, store
from leads.capture.intake.spam import (
    HONEYPOT_FIELD,
    RENDERED_FIELD,
    render_token,
)
from leads.capture.models import Form
from leads.capture.selectors import published_form
from leads.capture.services import Provenance
from leads.models import Submission
from portal.errors import DomainError, PayloadTooLarge, RateLimited
from portal.net import client_ip

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_CHARS = Submission._meta.get_field("idempotency_key").max_length


# The public form takes posts from the hosted page and from snippets embedded on other
# sites, by anonymous visitors with no session to ride on: a CSRF token protects nothing
# here and would break every embed.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    if request.method == "GET":
        form = published_form(slug=slug)
        if hosted_page_seen(request, form):
            form_viewed(form=form)
        return _form_response(request, form, bind(form, None), utm=request.GET)
    try:
        form = post_form(request, by_slug, slug)
    except RateLimited as error:
        return rate_limited_page(request, error.form, error)
    try:
        read = _posted_fields(request)
    except DomainError as error:
        # Nothing of the post could be read: the empty form, and why.
        return _form_response(request, form, bind(form, None), utm=request.GET, error=error)
    # The page always draws the render token, so a post without one is suspect.
    posted, signals = spam_signals(read.fields, token_expected=True)
    undecodable = [misread.name for misread in read.undecodable]
    bound = bind(form, posted, payload=_payload(posted), undecodable=undecodable)
    status = 400
    if bound.is_valid():
        try:
            store(
                form,
                intake="page",
                payload=bound.payload,
                cleaned=bound.cleaned_data,
                provenance=_provenance(request, posted),
                signals=signals,
            )
        except DomainError as error:
            bound.add_error(None, ValidationError(error.message, code=error.code))
            status = error.status
        else:
            # A URL, so not `redirect()`, which first tries it as a view name (and fails).
            return HttpResponseRedirect(after_post_url(form))
    return _form_response(request, form, bound, utm=posted, status=status, token=signals.token)


def _form_response(
    request: HttpRequest,
    form: Form,
    bound: SubmissionForm,
    *,
    utm: Mapping,
    error: DomainError | None = None,
    status: int = 200,
    token: str | None = None,
) -> HttpResponse:
    # In an iframe, frame.js names the host page in the URL; the post carries it (and the UTM).
    page_url = request.GET.get("page_url") or utm.get("page_url") or ""
    utm = {key: request.GET.get(key, utm.get(key, "")) for key in UTM_KEYS}
    context = {
        "form": form,
        "bound": bound,
        "utm": utm,
        "page_url": page_url[:2000] if isinstance(page_url, str) else "",
        "error": error,
        # Shown again after field errors, the page keeps the time it was first shown.
        "spam": {"honeypot": HONEYPOT_FIELD, "token_field": RENDERED_FIELD},
        "render_token": token or render_token(form),
    }
    response = render(
        request, "capture/form.html", context, status=error.status if error else status
    )
    return frame_for_listed_origins(response, form)


def rate_limited_page(request: HttpRequest, form: Form | None, error: RateLimited) -> HttpResponse:
    """A person who posted too often: a page saying when to try again (429, Retry-After)."""
    context = {"form": form, "retry_after": error.retry_after_seconds}
    response = render(request, "capture/rate_limited.html", context, status=error.status)
    response["Retry-After"] = str(error.retry_after_seconds)
    return frame_for_listed_origins(response, form) if form else response


def after_post_url(form: Form) -> str:
    """Where a visitor goes after a stored post: the form's own page, or our thanks page."""
    return form.redirect_url or _thanks_url(get_script_prefix(), form.slug)


@functools.lru_cache(maxsize=1024)
def _thanks_url(prefix: str, slug: str) -> str:
    # Worked out once per form and process: `reverse` was a thirtieth of a post's CPU.
    return reverse("capture:thanks", args=[slug])


def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    form = published_form(slug=slug)
    return frame_for_listed_origins(render(request, "capture/thanks.html", {"form": form}), form)


def _posted_fields(
    request: HttpRequest, *, charset: str | None = None, fallback: str | None = None
) -> Posted:
    """The posted fields as text (`decoding.posted_fields`), or a DomainError saying why the
    post cannot be read as a form."""
    try:
        return posted_fields(request, charset=charset, fallback=fallback)
    except RequestDataTooBig as exc:
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        raise PayloadTooLarge(f"The form data is larger than {limit}.") from exc
    except (TooManyFieldsSent, TooManyFilesSent) as exc:
        raise DomainError("The form has too many fields.", code="too_many_fields") from exc
    except MultiPartParserError as exc:
        raise DomainError("The form data could not be read.", code="bad_request") from exc


def _payload(posted: QueryDict) -> dict:
    return {
        key: values if len(values) > 1 else values[0]
        for key, values in posted.lists()
        if key != "csrfmiddlewaretoken"
    }


def _provenance(request: HttpRequest, posted: QueryDict) -> Provenance:
    return request_provenance(
        request, page_url=posted.get("page_url") or _header(request, "Referer"), utm=posted
    )


def request_provenance(
    request: HttpRequest,
    *,
    page_url: str,
    utm: Mapping,
    ip: str | None = None,
    submitted_at: datetime | None = None,
) -> Provenance:
    """Where a post came from, from the request and the caller's own page and UTM tags; `ip`
    and `submitted_at` as a trusted relay names them."""
    return Provenance(
        page_url=str(page_url)[:2000],
        utm={key: str(utm[key])[:200] for key in UTM_KEYS if utm.get(key)},
        idempotency_key=idempotency_key(request),
        ip_address=ip or client_ip(request),
        user_agent=_header(request, "User-Agent")[:500],
        submitted_at=submitted_at,
    )


def idempotency_key(request: HttpRequest) -> str:
    """The Idempotency-Key header, whole: a longer key is refused, never cut to fit."""
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise DomainError(
            f"The Idempotency-Key header has {len(key):,} characters; "
            f"use at most {MAX_IDEMPOTENCY_KEY_CHARS}.",
            code="max_length",
            field=IDEMPOTENCY_KEY_HEADER,
        )
    if key and not (key.isascii() and key.isprintable()):
        raise DomainError(
            "Use printable ASCII characters only in the Idempotency-Key header.",
            code="invalid",
            field=IDEMPOTENCY_KEY_HEADER,
        )
    return key


def _header(request: HttpRequest, name: str) -> str:
    # Not the visitor's own words, and PostgreSQL text cannot hold NUL: dropped, not refused.
    return request.headers.get(name, "").replace("\x00", "")
