"""Does a post look like spam? The checks every intake runs on a valid post before storing it.

- a honeypot: the hosted page and the embed draw a field people never see (hidden,
  aria-hidden, tabindex=-1); bots that fill every input fill it too;
- a minimum fill time: the page and the embed carry a signed render time; a post sent sooner
  than `SPAM_MIN_FILL_SECONDS` after it, or with a token that is forged, from another form or
  older than `SPAM_TOKEN_MAX_AGE_SECONDS` (so a token cannot be replayed for ever), is a bot.
  A post to the hosted page without the token is a bot too: the page always draws it. Other
  callers without it (a server posting to the API or a compatible endpoint) are not judged by
  fill time. `SPAM_MIN_FILL_SECONDS` 0 turns the fill-time checks off;
- disposable e-mail domains, from the `disposable-email-domains` package (the community list
  at github.com/disposable-email-domains), also their subdomains;
- the form's own stop phrases, in any text the post sends (case-insensitive).

A suspect post is quarantined (leads.capture.intake.quarantine), never dropped, and answered like a
success so a bot learns nothing. The checks only read: they never refuse a post.
"""

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings
from django.core import signing

from leads.capture.builder.fields import HONEYPOT_FIELD, RENDERED_FIELD, SPAM_FIELDS
from leads.capture.models import Form, QuarantinedPost

Reason = QuarantinedPost.Reason

SIGNING_SALT = "leadbridge.capture.rendered"  # a namespace for the signature, not a secret


@dataclass(frozen=True)
class Signals:
    """What a post carried for the checks, taken out of its fields before validation."""

    honeypot: str = ""
    token: str | None = None
    token_expected: bool = False  # the hosted page always sends one


@dataclass(frozen=True)
class Finding:
    reason: str
    detail: str


def render_token(form: Form, *, at: float | None = None) -> str:
    """The signed time the form was shown, for the post to send back in RENDERED_FIELD."""
    return signing.dumps(
        {"form": form.pk, "at": time.time() if at is None else at}, salt=SIGNING_SALT
    )


def split_signals(
    data: Mapping[str, Any], *, token_expected: bool = False
) -> tuple[dict[str, Any], Signals]:
    """The post's own fields, and the spam fields that came with them (taken out)."""
    fields = {name: value for name, value in data.items() if name not in SPAM_FIELDS}
    honeypot = data.get(HONEYPOT_FIELD) or ""
    token = data.get(RENDERED_FIELD)
    return fields, Signals(
        honeypot=honeypot if isinstance(honeypot, str) else str(honeypot),
        token=token if isinstance(token, str) or token is None else str(token),
        token_expected=token_expected,
    )


def spam_findings(
    *, form: Form, cleaned: Mapping[str, Any], signals: Signals, now: float | None = None
) -> list[Finding]:
    """Every reason to hold this post, in a fixed order; empty when it looks like a person."""
    findings = []
    if signals.honeypot.strip():
        findings.append(Finding(Reason.HONEYPOT, "The hidden field people never see was filled."))
    if signals.token is not None:
        findings.extend(_fill_time(form, signals.token, time.time() if now is None else now))
    elif signals.token_expected and settings.SPAM_MIN_FILL_SECONDS > 0:
        findings.append(Finding(Reason.MISSING_TOKEN, "The form's render token was not sent."))
    domain = email_domain(str(cleaned.get("email", "")))
    if domain and is_disposable(domain):
        findings.append(
            Finding(Reason.DISPOSABLE_EMAIL, f"{domain} is a disposable e-mail domain.")
        )
    phrase = stop_phrase_in(form.stop_phrases, _texts(cleaned))
    if phrase:
        findings.append(Finding(Reason.STOP_PHRASE, f"Contains the stop phrase “{phrase}”."))
    return findings


def _fill_time(form: Form, token: str, now: float) -> list[Finding]:
    try:
        rendered = signing.loads(token, salt=SIGNING_SALT)
        shown_at = float(rendered["at"])
        same_form = rendered["form"] == form.pk
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return [Finding(Reason.FORGED_TOKEN, "The form's render token is not one we signed.")]
    if not same_form:
        return [Finding(Reason.FORGED_TOKEN, "The render token belongs to another form.")]
    took = now - shown_at
    minimum = settings.SPAM_MIN_FILL_SECONDS
    if 0 <= took < minimum:
        return [Finding(Reason.TOO_FAST, f"Sent {took:.1f} s after the form was shown.")]
    if minimum > 0 and took > settings.SPAM_TOKEN_MAX_AGE_SECONDS:
        return [Finding(Reason.STALE_TOKEN, f"Sent {took / 3600:.1f} h after the form was shown.")]
    return []


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def is_disposable(domain: str) -> bool:
    """The domain or any parent of it is on the list (x.mailinator.com is mailinator.com)."""
    parts = domain.split(".")
    return any(".".join(parts[i:]) in DISPOSABLE_DOMAINS for i in range(len(parts) - 1))


def stop_phrase_in(phrases: Iterable[str], texts: Iterable[str]) -> str | None:
    haystack = "\n".join(texts).casefold()
    return next((p for p in phrases if p.strip() and p.strip().casefold() in haystack), None)


def _texts(cleaned: Mapping[str, Any]) -> list[str]:
    texts = []
    for value in cleaned.values():
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            texts.extend(item for item in value if isinstance(item, str))
    return texts


def signals_of(data: Mapping[str, Any], *, token_expected: bool = False) -> Signals:
    """The spam fields of a post (a QueryDict's last value each), without changing it."""
    spam = {name: data.get(name) for name in SPAM_FIELDS if name in data}
    return split_signals(spam, token_expected=token_expected)[1]
