"""The JSON intake: the same form, validation and service as the hosted page."""

import codecs
import json
import re
from typing import Any

from django.utils.http import parse_header_parameters
from rest_framework import status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.json import strict_constant
from rest_framework.views import APIView

from leads.capture.builder.embedding import embed_definition_seen
from leads.capture.builder.forms import NOT_UTF8, printable_name
from leads.capture.intake.counters import form_viewed
from leads.capture.intake.pipeline import bind, by_slug, post_form, spam_signals, store
from leads.capture.intake.spam import HONEYPOT_FIELD, RENDERED_FIELD, render_token
from leads.capture.intake.views import request_provenance
from leads.capture.selectors import embed_definition, published_form
from portal.errors import DomainError, InvalidFields, UnsupportedMediaType


class IntakeJSONParser(JSONParser):
    """JSON as RFC 8259 has it: UTF-8 only, and a refusal that says what was wrong."""

    def parse(self, stream, media_type=None, parser_context=None):
        _require_utf8(media_type or "")
        body = stream.read()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(body, exc) from exc
        try:
            return json.loads(text, parse_constant=strict_constant)
        except RecursionError as exc:
            raise DomainError("The JSON is nested too deeply.", code="too_deep") from exc
        except ValueError as exc:
            # Also Python's limit on the digits of an integer.
            raise DomainError(f"JSON parse error - {exc}", code="parse_error") from exc


# A byte that is not UTF-8, as `surrogateescape` keeps it: U+DC80..U+DCFF.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


class NotUTF8(InvalidFields):
    """A JSON body with bytes that are not UTF-8, by the top-level member they are in.

    `parsed` is the body read with each bad byte kept as a lone surrogate, for a caller
    whose members hold fields of their own (HubSpot's `fields`) to name those.
    """

    def __init__(self, errors: dict, *, parsed: dict[str, Any]):
        super().__init__(errors, code="invalid_encoding")
        self.parsed = parsed


def has_escaped_bytes(value: Any) -> bool:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):
        return False
    return bool(_ESCAPED_BYTE.search(text))


def _not_utf8(body: bytes, exc: UnicodeDecodeError) -> DomainError:
    """Which members hold the bytes that are not UTF-8; the whole body when it cannot be read
    as JSON even with them kept."""
    try:
        parsed = json.loads(body.decode("utf-8", "surrogateescape"), parse_constant=strict_constant)
    except (ValueError, RecursionError):
        parsed = None
    names = [
        name
        for name, value in (parsed.items() if isinstance(parsed, dict) else ())
        if has_escaped_bytes(name) or has_escaped_bytes(value)
    ]
    if not names:
        return DomainError(
            f"The body is not valid UTF-8 (byte {exc.start:,}).", code="invalid_encoding"
        )
    problem = {"message": NOT_UTF8[0], "code": NOT_UTF8[1]}
    return NotUTF8({printable_name(name): [problem] for name in names}, parsed=parsed)


def _require_utf8(media_type: str) -> None:
    charset = parse_header_parameters(media_type)[1].get("charset")
    if charset is None:
        return
    try:
        is_utf8 = codecs.lookup(charset).name == "utf-8"
    except LookupError:
        is_utf8 = False
    if not is_utf8:
        raise UnsupportedMediaType(
            f"Send JSON as UTF-8; this body declares charset={charset}.",
            code="unsupported_charset",
        )


class AnswerInJSON(DefaultContentNegotiation):
    """The intake answers JSON whatever the caller's Accept header says, as HubSpot's does:
    an error the caller can read beats a 406. Parsing the header was a twentieth of a JSON
    post's CPU (py-spy). The body is still parsed only if it says it is JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class SubmissionCreate(APIView):
    """POST a JSON object of field values; `page_url` and `utm` travel beside them.

    Refusals are raised, and portal.error_handlers answers them in the one error shape.
    """

    # Public and cross-origin like the hosted form: no session, so no CSRF to check.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [IntakeJSONParser]
    content_negotiation_class = AnswerInJSON

    def post(self, request: Request, slug: str) -> Response:
        http = request._request  # Django's own: DRF's hands each attribute on, at a cost
        # Refusals (404, 429) are raised: portal.error_handlers answers them.
        form = post_form(http, by_slug, slug)
        payload = request.data
        if not isinstance(payload, dict):
            raise DomainError("Send a JSON object of field values.", code="not_an_object")
        payload, signals = spam_signals(payload)
        bound = bind(form, payload)
        if not bound.is_valid():
            raise InvalidFields(bound.errors.get_json_data())
        submission = store(
            form,
            intake="api",
            payload=payload,
            cleaned=bound.cleaned_data,
            provenance=request_provenance(
                http, page_url=payload.get("page_url", ""), utm=payload.get("utm", {})
            ),
            signals=signals,
        )
        # A held post answers like a stored one; it has no submission or lead (yet).
        return Response(
            {
                "submission": submission.pk if submission else None,
                "lead": submission.lead_id if submission else None,
            },
            status=status.HTTP_201_CREATED,
        )


class FormDefinition(APIView):
    """GET the published form's fields, for the embed script to draw it on another site."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    content_negotiation_class = AnswerInJSON

    def get(self, request: Request, slug: str) -> Response:
        form = published_form(slug=slug)
        if embed_definition_seen(request, form):
            form_viewed(form=form)  # a listed site's embed draws the form from this
        # The embed draws the honeypot and sends back the signed time it drew the form.
        spam = {
            "honeypot": HONEYPOT_FIELD,
            "token_field": RENDERED_FIELD,
            "token": render_token(form),
        }
        return Response({**embed_definition(form=form), "spam": spam})
