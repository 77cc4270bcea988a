"""Bearer tokens for the HubSpot-compatible secure endpoint: one per form, kept hashed.

Per form rather than per portal: the form's GUID already names it in the URL, a leaked
token opens one form only, and a marketer replaces it from that form's page. Only the
SHA-256 of the token is stored: a token is 256 random bits, so a slow password hash would
add nothing but time to every post; the token itself is shown once, when it is made.
"""

import hashlib
import hmac
import secrets

from django.db import connection
from django.utils import timezone

from leads.capture.models import Form


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
    return token


def hubspot_token_matches(*, guid, token: str) -> bool:
    """Whether `token` is the secure endpoint's token of the form with this GUID.

    Read from the database on every post, so a replaced token stops working at once in
    every process; as one plain statement, since the ORM's queryset for it was a third of a
    secure post's CPU (py-spy)."""
    if not token:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_TOKEN_HASH_SQL, [_GUID.get_db_prep_value(guid, connection)])
        row = cursor.fetchone()
    stored = row[0] if row else ""
    return bool(stored) and hmac.compare_digest(stored, token_hash(token))


_GUID = Form._meta.get_field("guid")  # stored as uuid on PostgreSQL, as hex on SQLite
_TOKEN_HASH_SQL = (
    f"SELECT {Form._meta.get_field('hubspot_token_hash').column} FROM {Form._meta.db_table} "  # noqa: S608 - names from the model, the GUID bound
    f"WHERE {_GUID.column} = %s"
)
