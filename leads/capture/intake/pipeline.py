"""The one intake pipeline: what every public entry point (the hosted page, the JSON API,
HubSpot's two endpoints and Salesforce's Web-to-Lead) does with a post, in this order.

1. `post_form`: the published form the post names, and its rate limits (ratelimit.py). A
   made-up id (slug, GUID, `oid`) counts against the client IP all the same, so a flood of
   them meets the per-IP limit; `count_unknown` alone is that count, for an id refused
   before any lookup (a GUID that is not one, a wrong token).
2. `spam_signals`: the spam fields taken out of the post's own fields (spam.py).
3. `bind`: the published version's form class, bound to the values.
4. `store`: a valid post held in the quarantine or captured (quarantine.intake_capture).

Each entry point reads its own body and answers every outcome in its own format: the
lookup's Http404 or DomainError (raised after the count), RateLimited (its `form` is the
form, or None for a made-up id), an invalid bound form. Plain functions, no state: no query
and no object beyond those the entry points made before they shared these steps.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from uuid import UUID

from django.http import Http404, HttpRequest, QueryDict

from leads.capture.builder.forms import SubmissionForm, submission_form_class
from leads.capture.intake.quarantine import intake_capture
from leads.capture.intake.ratelimit import check_rate_limit
from leads.capture.intake.spam import SPAM_FIELDS, Signals, signals_of, split_signals
from leads.capture.models import Form
from leads.capture.selectors import published_form, published_form_by_guid
from leads.capture.services import Provenance
from leads.models import Submission
from portal.errors import DomainError, RateLimited


def post_form(
    request: HttpRequest, lookup: Callable[[Any], Form], key: Any, *, ip: str | None = None
) -> Form:
    """The published form `lookup(key)` finds (`by_slug`, `by_guid`, or the entry point's
    own), with the post counted against its limits.

    Raises the lookup's Http404 or DomainError once a made-up id is counted against the IP,
    and RateLimited (with `form`) when the post is over a limit. `ip`: the visitor's address
    as a trusted relay names it (the secure HubSpot endpoint), counted instead of the peer's.
    """
    try:
        form = lookup(key)
    except (Http404, DomainError):
        count_unknown(request)
        raise
    try:
        check_rate_limit(request, form, ip=ip)
    except RateLimited as error:
        error.form = form
        raise
    return form


def by_slug(slug: str) -> Form:
    return published_form(slug=slug)


def by_guid(guid: UUID) -> Form:
    return published_form_by_guid(guid=guid)


def count_unknown(request: HttpRequest) -> None:
    """Count a post that names no form of ours against its IP: RateLimited (its `form` None)
    once over the per-IP limit."""
    try:
        check_rate_limit(request, None)
    except RateLimited as error:
        error.form = None
        raise


def spam_signals(
    fields: Mapping[str, Any], *, token_expected: bool = False
) -> tuple[Mapping[str, Any], Signals]:
    """The post's own fields without the spam fields, and what those said. A form post
    (QueryDict) is copied only when it carried spam fields; `token_expected` where the page
    drew the render token itself (the hosted page)."""
    if isinstance(fields, QueryDict):
        return without_spam_fields(fields), signals_of(fields, token_expected=token_expected)
    return split_signals(fields, token_expected=token_expected)


def without_spam_fields(posted: QueryDict) -> QueryDict:
    if not any(name in posted for name in SPAM_FIELDS):
        return posted
    posted = posted.copy()
    for name in SPAM_FIELDS:
        posted.pop(name, None)
    return posted


def bind(
    form: Form,
    data: Mapping[str, Any] | None,
    *,
    payload: Mapping[str, Any] | None = None,
    undecodable: Iterable[str] = (),
    uncounted: Iterable[str] = (),
) -> SubmissionForm:
    """The form's published version as a form class (built once per version), bound; the
    options are SubmissionForm's."""
    return submission_form_class(form.current_version)(
        data, payload=payload, undecodable=undecodable, uncounted=uncounted
    )


def store(
    form: Form,
    *,
    intake: str,
    payload: dict[str, Any],
    cleaned: dict[str, Any],
    provenance: Provenance,
    signals: Signals,
    problems: list[dict[str, Any]] | None = None,
) -> Submission | None:
    """A valid post held (None: the caller answers it like a stored one) or captured."""
    return intake_capture(
        form=form,
        version=form.current_version,
        intake=intake,
        payload=payload,
        cleaned=cleaned,
        provenance=provenance,
        signals=signals,
        problems=problems,
    )
