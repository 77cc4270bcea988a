"""Drop-in endpoints for sites that post to HubSpot or Salesforce: change the URL, keep the form.

Both read the vendor's request, turn it into the form's own fields, and go through the same
form class (validation and payload caps), Idempotency-Key and `lead_capture` as our own
intakes. They answer in the vendor's shape: HubSpot's Forms API v3 JSON, HubSpot's legacy v2
204/302, and Salesforce Web-to-Lead's 200 page that sends the browser on to `retURL`. A form
is named by its GUID or by the vendor's own ids set on it (HubSpot's portal id and form GUID,
Salesforce's org id), and posted names are read through its aliases (leads/capture/aliases.py).
Bad input is a 4xx in that shape, never a 5xx.
"""

import dataclasses
import functools
import io
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from leads.capture.aliases import accepts, aliased_name, lead_names
from leads.capture.builder.forms import (
    NOT_UTF8,
    SubmissionForm,
    field_problem,
    kept_with_problems,
    printable_name,
    submission_form_class,
)
from leads.capture.builder.tokens import hubspot_token_matches
from leads.capture.intake.api import IntakeJSONParser, NotUTF8, has_escaped_bytes
from leads.capture.intake.decoding import WINDOWS_1252, Posted, charset_of
from leads.capture.intake.pipeline import (
    bind,
    count_unknown,
    post_form,
    spam_signals,
    store,
)
from leads.capture.intake.spam import SPAM_FIELDS, Signals
from leads.capture.intake.views import (
    UTM_KEYS,
    _payload,
    _posted_fields,
    after_post_url,
    rate_limited_page,
    request_provenance,
)
from leads.capture.models import SALESFORCE_ORG_ID, Form, FormField, FormVersion
from leads.capture.selectors import (
    published_form_by_guid,
    published_form_by_org_id,
    published_form_for_hubspot,
)
from portal.errors import (
    ALL_FIELDS,
    DomainError,
    PayloadTooLarge,
    RateLimited,
    UnsupportedMediaType,
)

logger = logging.getLogger(__name__)

# HubSpot ------------------------------------------------------------------------------------

JSON = "application/json"
MAX_HUBSPOT_FIELDS = 1000  # HubSpot's own limit on `fields`
# submittedAt (a relay's time of the visitor's post) is taken within these bounds; outside
# them the post is kept at our time, and the problem recorded on the submission.
SUBMITTED_AT_SKEW = timedelta(minutes=5)
SUBMITTED_AT_MAX_AGE = timedelta(days=30)
UNKNOWN_PROPERTY = "Not a field of the form; kept as sent (the secure endpoint takes any property)."
NUMERIC = {FormField.Kind.NUMBER, FormField.Kind.DECIMAL}
# Our field error codes as HubSpot's errorTypes; any other refusal of a field's value is
# INVALID_FIELD_VALUE, and of the request's other members (context, ...) INVALID_METADATA.
HUBSPOT_ERROR_TYPES = {
    "required": "REQUIRED_FIELD",
    "invalid_choice": "VALUE_NOT_IN_FIELD_DEFINITION",
    "max_length": "INPUT_TOO_LARGE",
    "max_value": "NUMBER_OUT_OF_RANGE",
    "min_value": "NUMBER_OUT_OF_RANGE",
    "not_finite": "NUMBER_OUT_OF_RANGE",
    "too_many_fields": "MAX_NUMBER_OF_SUBMITTED_VALUES_EXCEEDED",
}


class HubSpotRefusal(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]]):
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


@csrf_exempt
def hubspot_submit(request: HttpRequest, portal_id: str, guid: str) -> HttpResponse:
    """POST /submissions/v3/integration/submit/<portalId>/<formGuid>, as HubSpot answers it.

    The GUID is the form's own (any portalId), or the HubSpot form GUID set on the form (with
    its portal id, when the form has one): a site changes only the host.
    """
    form_guid = _guid(guid)
    if form_guid is None:
        return _hubspot_no_such_form(request, guid)
    return _hubspot_answer(
        request, form_guid, lambda: published_form_for_hubspot(portal_id=portal_id, guid=form_guid)
    )


def _guid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _hubspot_no_such_form(request: HttpRequest, guid: str) -> JsonResponse:
    """A form id that is not a GUID: counted against the IP like any made-up id, then
    HubSpot's 404 (not Django's page, which would also have counted nothing)."""
    try:
        count_unknown(request)
    except RateLimited as error:
        return _hubspot_rate_limited(error)
    message = f"Form {guid[:100]} was not found or is not published."
    return _hubspot_error(404, message, [{"message": message, "errorType": "FORM_NOT_FOUND"}])


@csrf_exempt
def hubspot_secure_submit(request: HttpRequest, portal_id: str, guid: str) -> HttpResponse:
    """POST /submissions/v3/integration/secure/submit/<portalId>/<formGuid>, with a bearer
    token: the form's own (made on its page) or an account token (the marketing manager's
    page). Server to server, so no CORS here; a missing or wrong token, or a form we do not
    have, is a 401 in HubSpot's shape before the body is read."""
    form_guid = _guid(guid)
    if form_guid is None:
        return _hubspot_no_such_form(request, guid)
    try:
        form = published_form_for_hubspot(portal_id=portal_id, guid=form_guid)
    except Http404:
        form = None
    if form is None or not hubspot_token_matches(form=form, token=_bearer_token(request)):
        try:
            count_unknown(request)  # guessing GUIDs or tokens counts against the IP
        except RateLimited as error:
            return _hubspot_rate_limited(error)
        return _hubspot_unauthorized(request)
    return _hubspot_answer(request, form_guid, lambda: form, secure=True)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _hubspot_unauthorized(request: HttpRequest) -> JsonResponse:
    if request.headers.get("Authorization"):
        message = "Authentication credentials are invalid for this form."
    else:
        message = (
            "Authentication credentials not found. Send the form's token as "
            "Authorization: Bearer <token>."
        )
    response = _hubspot_error(401, message, [{"message": message, "errorType": "UNAUTHORIZED"}])
    # HubSpot's own authentication errors name their category beside the message.
    body = json.loads(response.content)
    response = JsonResponse({**body, "category": "INVALID_AUTHENTICATION"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="hubspot-secure-submit"'
    return response


def _hubspot_answer(
    request: HttpRequest, guid: uuid.UUID, find: Callable[[], Form], *, secure: bool = False
) -> HttpResponse:
    try:
        return _hubspot_submit(request, find, secure=secure)
    except HubSpotRefusal as refusal:
        return _hubspot_error(refusal.status, refusal.message, refusal.errors)
    except Http404:
        message = f"Form {guid} was not found or is not published."
        return _hubspot_error(404, message, [{"message": message, "errorType": "FORM_NOT_FOUND"}])
    except RateLimited as error:
        return _hubspot_rate_limited(error)
    except DomainError as error:
        errors = [{"message": error.message, "errorType": error.code.upper()}]
        return _hubspot_error(error.status, error.message, errors)


def _hubspot_rate_limited(error: RateLimited) -> JsonResponse:
    """HubSpot's own answer to a caller over its limit, with when to try again."""
    errors = [{"message": error.message, "errorType": "RATE_LIMIT"}]
    response = _hubspot_error(error.status, error.message, errors)
    response["Retry-After"] = str(error.retry_after_seconds)
    return response


def _hubspot_submit(
    request: HttpRequest, find: Callable[[], Form], *, secure: bool
) -> HttpResponse:
    """`secure`: behind a valid token (a trusted relay), where HubSpot takes properties the
    form does not have (kept as sent, recorded on the submission as unknown properties),
    `submittedAt` and `context.ipAddress` (the visitor's, counted and stored as theirs)."""
    if request.method != "POST":
        message = "Send the submission with POST."
        errors = [{"message": message, "errorType": "METHOD_NOT_ALLOWED"}]
        raise HubSpotRefusal(405, message, errors)
    if secure:
        body = _hubspot_body(request)
        relayed = _relayed(body)
        form = post_form(request, lambda _: find(), None, ip=relayed.ip)  # 429: _hubspot_answer
    else:
        form = post_form(request, lambda _: find(), None)  # 404, 429: _hubspot_answer
        body = _hubspot_body(request)
        relayed = Relayed()
    body, signals = _hubspot_signals(body)
    version = form.current_version
    form_class = submission_form_class(version)  # its fields shape HubSpot's list of values
    values, payload, unknown = _hubspot_values(
        body, form_class, version, aliases=form.aliases, keep_unknown=secure
    )
    bound = bind(form, values, payload=payload, uncounted=unknown)
    if not bound.is_valid():
        raise HubSpotRefusal(400, "The request is not valid", _hubspot_errors(bound, version))
    page_url = (body.get("context") or {}).get("pageUri")
    page_url = page_url if isinstance(page_url, str) else ""
    store(
        form,
        intake="hubspot",
        payload=payload,
        cleaned=lead_names(payload, bound.cleaned_data),
        provenance=request_provenance(
            request,
            page_url=page_url,
            utm=_utm_of(page_url),
            ip=relayed.ip,
            submitted_at=relayed.submitted_at,
        ),
        signals=signals,
        problems=[
            *(
                field_problem(name, "unknown_property", UNKNOWN_PROPERTY, _raw(payload[name]))
                for name in unknown
            ),
            *relayed.problems,
        ],
    )
    return _hubspot_accepted(form)


def _hubspot_accepted(form: Form) -> HttpResponse:
    """HubSpot's 200 to a stored post: where to send the visitor, or what to tell them."""
    if form.redirect_url:
        return HttpResponse(_answer_body("redirectUri", form.redirect_url), content_type=JSON)
    return HttpResponse(_answer_body("inlineMessage", form.thank_you_message), content_type=JSON)


@functools.lru_cache(maxsize=256)
def _answer_body(name: str, text: str) -> bytes:
    """The answer's JSON, encoded once per text: JsonResponse's encoder, made for each post,
    cost twice the plain response it wraps (timeit)."""
    return json.dumps({name: text}).encode()


@dataclass(frozen=True)
class Relayed:
    """What a trusted relay (a valid token) says of the visitor's post, and its problems."""

    ip: str | None = None
    submitted_at: datetime | None = None
    problems: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _relayed(body: dict[str, Any]) -> Relayed:
    context = body.get("context")
    ip, problems = None, []
    raw_ip = context.get("ipAddress") if isinstance(context, dict) else None
    if raw_ip not in (None, ""):
        try:
            ip = str(ip_address(str(raw_ip).strip()))
        except ValueError:
            message = "Not an IP address; the relay's own address was stored."
            problems.append(field_problem("context.ipAddress", "invalid", message, _raw(raw_ip)))
    submitted_at, problem = _submitted_at(body.get("submittedAt"))
    return Relayed(ip=ip, submitted_at=submitted_at, problems=problems + problem)


def _submitted_at(raw: Any) -> tuple[datetime | None, list[dict[str, Any]]]:
    """HubSpot's submittedAt (milliseconds since 1970) when within bounds; else None and why."""
    if raw in (None, ""):
        return None, []
    now = timezone.now()
    try:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise TypeError
        moment = datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        code, message = "invalid", "Not a time in milliseconds since 1970; our time was used."
    else:
        if moment > now + SUBMITTED_AT_SKEW:
            code, message = "in_future", "In the future; our time was used."
        elif moment < now - SUBMITTED_AT_MAX_AGE:
            days = SUBMITTED_AT_MAX_AGE.days
            code, message = "too_old", f"More than {days} days ago; our time was used."
        else:
            return moment, []
    return None, [field_problem("submittedAt", code, message, _raw(raw))]


def _hubspot_body(request: HttpRequest) -> dict[str, Any]:
    try:
        raw = request.body
    except RequestDataTooBig as exc:
        raise PayloadTooLarge("The request body is too large.") from exc
    if request.content_type != JSON:
        raise UnsupportedMediaType("Send the submission as application/json.")
    try:
        body = IntakeJSONParser().parse(io.BytesIO(raw), request.META.get("CONTENT_TYPE", ""))
    except NotUTF8 as error:
        raise HubSpotRefusal(400, "The request is not valid", _not_utf8_errors(error)) from error
    if not isinstance(body, dict):
        raise DomainError("Send a JSON object with a fields list.", code="not_an_object")
    return body


def _not_utf8_errors(error: NotUTF8) -> list[dict[str, str]]:
    """Each field (or other member) with bytes that are not UTF-8, as HubSpot names them."""
    where = [f"Error in '{name}'." for name in error.errors if name != "fields"]
    fields = error.parsed.get("fields")
    for item in fields if "fields" in error.errors and isinstance(fields, list) else ():
        if has_escaped_bytes(item):
            name = item.get("name") if isinstance(item, dict) else None
            where.append(f"Error in 'fields.{printable_name(str(name))}'.")
    return [{"message": f"{at} {NOT_UTF8[0]}", "errorType": "INVALID_ENCODING"} for at in where]


def _hubspot_signals(body: dict[str, Any]) -> tuple[dict[str, Any], Signals]:
    """The body without the spam fields a site may send in `fields`, and what they said."""
    fields = body.get("fields")
    if not isinstance(fields, list):
        return body, Signals()
    spam = {
        item["name"]: item.get("value")
        for item in fields
        if isinstance(item, dict) and item.get("name") in SPAM_FIELDS
    }
    if not spam:
        return body, Signals()
    kept = [item for item in fields if not (isinstance(item, dict) and item.get("name") in spam)]
    return {**body, "fields": kept}, spam_signals(spam)[1]


def _hubspot_values(
    body: dict[str, Any],
    form_class: type[SubmissionForm],
    version: FormVersion,
    *,
    aliases: dict[str, str] | None = None,
    keep_unknown: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The values for the form, the payload to store (the fields by name, and the rest), and
    the names of fields the form does not have, when they are kept (`keep_unknown`). A name
    the form does not have is read through the form's `aliases` (HubSpot's `firstname` is
    our `first_name`); one naming the lead's name or company is taken even when the form does
    not ask for it."""
    fields = body.get("fields")
    if not isinstance(fields, list) or not all(
        isinstance(item, dict) and isinstance(item.get("name"), str) for item in fields
    ):
        message = "fields must be a list of objects, each with a name and a value."
        raise HubSpotRefusal(400, message, [{"message": message, "errorType": "INVALID_FIELDS"}])
    if len(fields) > MAX_HUBSPOT_FIELDS:
        message = f"Send at most {MAX_HUBSPOT_FIELDS} fields."
        errors = [{"message": message, "errorType": "MAX_NUMBER_OF_SUBMITTED_VALUES_EXCEEDED"}]
        raise HubSpotRefusal(400, message, errors)
    known = form_class.base_fields
    aliases = aliases or {}
    fields = [
        {**item, "name": aliased_name(item["name"], known, aliases)}
        if item["name"] not in known
        else item
        for item in fields
    ]
    unknown = list(
        dict.fromkeys(item["name"] for item in fields if not accepts(item["name"], known))
    )
    if unknown and not keep_unknown:
        errors = [
            {
                "message": f"Error in 'fields.{name}'. This field is not in the form.",
                "errorType": "FIELD_NOT_IN_FORM_DEFINITION",
            }
            for name in unknown
        ]
        raise HubSpotRefusal(400, "The request is not valid", errors)
    payload: dict[str, Any] = {}
    for item in fields:
        name, value = item["name"], item.get("value", "")
        if name in payload:
            earlier = payload[name] if isinstance(payload[name], list) else [payload[name]]
            payload[name] = [*earlier, value]
        else:
            payload[name] = value
    values = dict(payload)
    for name, field in known.items():
        # HubSpot sends the ticks of a multiple checkbox as one value, separated by ";".
        if isinstance(field, forms.MultipleChoiceField) and isinstance(values.get(name), str):
            values[name] = [tick for tick in values[name].split(";") if tick]
    clashing = [name for name in body if name != "fields" and name in known]
    if clashing:
        message = f"Send {clashing[0]} in fields, not beside them."
        raise HubSpotRefusal(400, message, [{"message": message, "errorType": "INVALID_METADATA"}])
    for name in ("context", "legalConsentOptions"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            message = f"Error in '{name}'. Send an object."
            errors = [{"message": message, "errorType": "INVALID_METADATA"}]
            raise HubSpotRefusal(400, "The request is not valid", errors)
    extras = {name: value for name, value in body.items() if name != "fields"}
    if _consents(extras.get("legalConsentOptions")):
        for name in _consent_keys(form_class, version):
            values.setdefault(name, True)
    clashing = [name for name in extras if name in unknown]
    if clashing:
        message = f"Send {clashing[0]} in fields or beside them, not both."
        raise HubSpotRefusal(400, message, [{"message": message, "errorType": "INVALID_METADATA"}])
    return values, {**payload, **extras}, unknown


def _raw(value: Any) -> Any:
    return value if isinstance(value, str | list) else json.dumps(value, ensure_ascii=False)


def _consents(options: Any) -> bool:
    if not isinstance(options, dict):
        return False
    consent = options.get("consent")
    return (isinstance(consent, dict) and consent.get("consentToProcess") is True) or bool(
        options.get("legitimateInterest")
    )


def _consent_keys(form_class: type[SubmissionForm], version: FormVersion) -> list[str]:
    """The version's consent fields, or the checkbox a form without one gets (forms.py)."""
    keys = [spec["key"] for spec in version.fields if spec["kind"] == FormField.Kind.CONSENT]
    return keys or [name for name in form_class.base_fields if name == "consent"]


def _hubspot_errors(bound: SubmissionForm, version: FormVersion) -> list[dict]:
    errors = []
    kinds = {spec["key"]: spec["kind"] for spec in version.fields}
    for name, problems in bound.errors.get_json_data().items():
        for problem in problems:
            if name in bound.fields:
                where = f"fields.{name}"
                error_type = _field_error_type(problem["code"], kinds.get(name))
            else:
                where = "request" if name == ALL_FIELDS else name
                error_type = HUBSPOT_ERROR_TYPES.get(problem["code"], "INVALID_METADATA")
            errors.append(
                {"message": f"Error in '{where}'. {problem['message']}", "errorType": error_type}
            )
    return errors


def _field_error_type(code: str, kind: str | None) -> str:
    if code in HUBSPOT_ERROR_TYPES:
        return HUBSPOT_ERROR_TYPES[code]
    if kind == FormField.Kind.EMAIL:
        return "INVALID_EMAIL"
    if kind in NUMERIC:
        return "INVALID_NUMBER"
    return "INVALID_FIELD_VALUE"


def _utm_of(page_url: str) -> dict[str, str]:
    try:
        query = parse_qs(urlsplit(page_url).query)
    except ValueError:
        return {}
    return {key: query[key][0] for key in UTM_KEYS if query.get(key)}


def _hubspot_error(status: int, message: str, errors: list[dict[str, str]]) -> JsonResponse:
    correlation_id = str(uuid.uuid4())
    logger.info("HubSpot-compatible post refused (%s): %s %s", correlation_id, status, errors)
    body = {"status": "error", "message": message, "correlationId": correlation_id}
    return JsonResponse({**body, "errors": errors}, status=status)


# HubSpot Forms API v2 (legacy) ----------------------------------------------------------------


@csrf_exempt
@require_POST
def hubspot_v2_submit(request: HttpRequest, portal_id: str, guid: str) -> HttpResponse:
    """POST /uploads/form/v2/<portalId>/<formGuid>, HubSpot's legacy form post: form-encoded
    fields by property name, and `hs_context` (JSON: pageUrl, pageName, hutk, ipAddress,
    redirectUrl). Answers as HubSpot did: 204, or 302 to `redirectUrl`; 404 for no such form.

    HubSpot's v2 took what it was sent, so this keeps a post the form refuses (as Web-to-Lead
    does): the values as sent, each problem recorded on the submission.
    """
    form_guid = _guid(guid)
    try:
        if form_guid is None:
            count_unknown(request)
            raise Http404
        form = post_form(
            request,
            lambda _: published_form_for_hubspot(portal_id=portal_id, guid=form_guid),
            None,
        )
        posted = _posted_fields(request)
    except Http404:
        return HttpResponse("Form not found.", status=404, content_type="text/plain")
    except RateLimited as error:
        response = HttpResponse(error.message, status=error.status, content_type="text/plain")
        response["Retry-After"] = str(error.retry_after_seconds)
        return response
    except DomainError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    fields, signals = spam_signals(posted.fields)
    sent = _payload(fields)
    context, context_problems = _hs_context(sent.pop("hs_context", None))
    known, aliases = submission_form_class(form.current_version).base_fields, form.aliases
    payload = {aliased_name(name, known, aliases): value for name, value in sent.items()}
    if "hs_context" in posted.fields:
        payload["hs_context"] = context if context is not None else posted.fields["hs_context"]
    payload, cleaned, problems = kept_with_problems(bind(form, payload))
    page_url = (context or {}).get("pageUrl")
    page_url = page_url if isinstance(page_url, str) else ""
    store(
        form,
        intake="hubspot_v2",
        payload=payload,
        cleaned=lead_names(payload, cleaned),
        provenance=request_provenance(request, page_url=page_url, utm=_utm_of(page_url)),
        signals=signals,
        problems=context_problems + problems,
    )
    redirect_url = (context or {}).get("redirectUrl")
    if not isinstance(redirect_url, str) or not redirect_url:
        return HttpResponse(status=204)
    return HttpResponseRedirect(_return_to(form, redirect_url))


def _hs_context(raw: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """hs_context as the object it should be, or None and the problem (the text is kept)."""
    if raw in (None, ""):
        return None, []
    try:
        context = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        context = None
    if isinstance(context, dict):
        return context, []
    message = "Not a JSON object; kept as sent, without its page and redirect."
    return None, [field_problem("hs_context", "invalid", message, _raw(raw))]


# Salesforce Web-to-Lead -----------------------------------------------------------------------

# What Salesforce itself requires of a Web-to-Lead post; anything else it stores as sent.
SALESFORCE_REQUIRED = ("last_name", "company")


@csrf_exempt
@require_POST
def web_to_lead(request: HttpRequest) -> HttpResponse:
    """A Salesforce Web-to-Lead post: `oid` (or `orgId` in the query) is the Salesforce org id
    set on the form, or the form's GUID; answers Salesforce's 200 page that sends the browser
    on to `retURL`. Field names are read through the form's aliases (`title` is `job_title`).

    Kept whenever Salesforce would keep it (house rule 11): a field the form refuses (an
    e-mail that is not one, a local phone number, "50-100" employees, more fields than the form
    takes, bytes that are not UTF-8) is stored raw and its problem recorded on the submission;
    only a post without a last name or company is refused, as Salesforce refuses it.
    """
    declared = request.GET.get("encoding", "")
    charset = charset_of(declared)
    posted = _posted_fields(request, charset=charset, fallback=WINDOWS_1252)
    try:
        oid = posted.fields.get("oid") or request.GET.get("orgId", "")
        form = post_form(request, _form_by_oid, oid)
    except RateLimited as error:
        return rate_limited_page(request, error.form, error)
    fields, signals = spam_signals(posted.fields)
    known, aliases = submission_form_class(form.current_version).base_fields, form.aliases
    payload = {
        aliased_name(name, known, aliases): value for name, value in _payload(fields).items()
    }
    missing = [name for name in SALESFORCE_REQUIRED if not _given(payload.get(name))]
    if missing:
        context = {"form": form, "missing": [_salesforce_label(form, name) for name in missing]}
        return render(request, "capture/web_to_lead_error.html", context, status=400)
    payload, cleaned, problems = kept_with_problems(bind(form, payload))
    cleaned = lead_names(payload, cleaned)
    renamed = {name: aliased_name(name, known, aliases) for name in posted.fields}
    problems = _encoding_problems(declared, charset, posted, renamed) + problems
    utm = {"utm_campaign": payload.get("campaign_id", ""), "utm_source": payload.get("lead_source")}
    store(
        form,
        intake="web_to_lead",
        payload=payload,
        cleaned=cleaned,
        provenance=request_provenance(
            request,
            page_url=request.headers.get("Referer", "").replace("\x00", ""),
            utm={key: value for key, value in utm.items() if isinstance(value, str)},
        ),
        signals=signals,
        problems=problems,
    )
    # Salesforce's own answer: a 200 page that moves the browser on, so a script that posts
    # with XHR or fetch sees success, where a cross-site redirect would fail its CORS check.
    context = {"form": form, "return_to": _return_to(form, posted.fields.get("retURL", ""))}
    return render(request, "capture/web_to_lead_sent.html", context)


def _given(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(isinstance(item, str) and item.strip() for item in values)


def _salesforce_label(form: Form, key: str) -> str:
    labels = form.current_version.labels
    return labels.get(key) or key.replace("_", " ").capitalize()


def _encoding_problems(
    declared: str, charset: str | None, posted: Posted, renamed: dict[str, str]
) -> list[dict]:
    problems = []
    if declared and charset is None:
        message = f"encoding={declared[:40]} is not a charset we know; read as UTF-8."
        problems.append(field_problem("encoding", "unsupported_charset", message, declared[:200]))
    for misread in posted.fallen_back:
        message = f"Not valid {posted.charset.upper()} text; read as windows-1252."
        name = renamed.get(misread.name, misread.name)
        problems.append(field_problem(name, "invalid_encoding", message, misread.raw))
    return problems


def _form_by_oid(oid: str) -> Form:
    """The form a Salesforce org id names (set on the form), or our own GUID."""
    if SALESFORCE_ORG_ID.match(oid):
        return published_form_by_org_id(org_id=oid)
    try:
        guid = uuid.UUID(oid)
    except ValueError as exc:
        raise DomainError(
            "oid must be the Salesforce org id set on the form (00D...) or the form's id "
            "(its GUID, shown on the form's page).",
            field="oid",
        ) from exc
    return published_form_by_guid(guid=guid)


def _return_to(form: Form, ret_url: str) -> str:
    """retURL when it is on a site the form lists (or its redirect URL's); never elsewhere."""
    if ret_url and form.allows_return_to(ret_url):
        return ret_url
    if ret_url:
        logger.warning("Web-to-Lead retURL %r is not on a site form %s lists", ret_url, form.pk)
    return after_post_url(form)
