"""Bearer tokens for the HubSpot-compatible secure endpoint: one per form, or one for the
whole account (a private-app style token a marketing manager makes), all kept hashed.

A form's token: the form's GUID already names it in the URL, a leaked token opens one form
only, and a marketer replaces it from that form's page. An account token opens every form,
for a server relaying many forms' posts (as HubSpot's private app tokens do). Only the
SHA-256 of the token is stored: a token is 256 random bits, so a slow password hash would
add nothing but time to every post; the token itself is shown once, when it is made.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from leads.capture.models import Form, HubSpotAccountToken
from leads.capture.selectors import forget_published_forms

# Account tokens carry a prefix (as HubSpot's "pat-" private app tokens do): one is told from a
# form's token without a query, and a leaked one is recognisable in a log or a repository.
ACCOUNT_TOKEN_PREFIX = "lbpat-"  # noqa: S105 - a prefix, not a secret
# A token's "last used" is written at most this often: not a write on every post.
LAST_USED_EVERY = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hubspot_token_issue(*, form: Form) -> str:
    """A new token for the form's secure endpoint; the one before stops working at once."""
    token = secrets.token_urlsafe(32)
    form.hubspot_token_hash = token_hash(token)
    form.updated_at = timezone.now()
    Form.objects.filter(pk=form.pk).update(
        hubspot_token_hash=form.hubspot_token_hash, updated_at=form.updated_at
    )
    forget_published_forms()  # an update() sends no post_save: forget them here
    return token


def hubspot_token_matches(*, form: Form, token: str) -> bool:
    """Whether `token` opens the secure endpoint of this (published, remembered) form: its
    own token, or an account token not revoked.

    The form's token hash is the one the remembered form carries (selectors.py), so a post
    costs no query for it: py-spy put that SELECT at a third of a secure post's time. A new
    token forgets the remembered forms in the process that made it; another process takes
    the new one, and stops taking the old, within PUBLISHED_FORM_SECONDS (2 s), as it sees an
    unpublish. An account token is read on every post, so a revoked one stops at once."""
    if not token:
        return False
    if token.startswith(ACCOUNT_TOKEN_PREFIX):
        return _account_token_matches(token)
    stored = form.hubspot_token_hash
    return bool(stored) and hmac.compare_digest(stored, token_hash(token))


def _account_token_matches(token: str) -> bool:
    # Looked up by its hash (unique): a timing difference would reveal a hash, not a token.
    with connection.cursor() as cursor:
        cursor.execute(_ACCOUNT_TOKEN_SQL, [token_hash(token)])
        row = cursor.fetchone()
    if row is None:
        return False
    pk, last_used_at = row
    now = timezone.now()
    if last_used_at is None or _aware(last_used_at) < now - LAST_USED_EVERY:
        HubSpotAccountToken.objects.filter(pk=pk).update(last_used_at=now)
    return True


def _aware(moment: Any):
    # SQLite hands a raw cursor's timestamps back naive (UTC).
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def hubspot_account_token_issue(*, name: str, by) -> tuple[HubSpotAccountToken, str]:
    """A new account token (any form of the account); the token is returned once, here."""
    token = ACCOUNT_TOKEN_PREFIX + secrets.token_urlsafe(32)
    account_token = HubSpotAccountToken.objects.create(
        name=name, token_hash=token_hash(token), created_by=by
    )
    return account_token, token


def hubspot_account_token_revoke(*, account_token: HubSpotAccountToken, by) -> bool:
    """Revoke it at once; False when it already was (claimed with a conditional update)."""
    now = timezone.now()
    revoked = HubSpotAccountToken.objects.filter(pk=account_token.pk, revoked_at=None).update(
        revoked_at=now, revoked_by=by
    )
    if revoked:
        account_token.revoked_at, account_token.revoked_by = now, by
    return bool(revoked)


_ACCOUNT_TOKEN_SQL = (
    f"SELECT id, last_used_at FROM {HubSpotAccountToken._meta.db_table} "  # noqa: S608 - names from the model, the hash bound
    "WHERE token_hash = %s AND revoked_at IS NULL"
)
