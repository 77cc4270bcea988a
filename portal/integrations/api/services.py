"""Personal API tokens: made, proved and revoked here, never in a view.

A token reads `lb_<prefix>_<secret>`. Only the SHA-256 of the whole token is stored: a
token is 160 random bits, so a plain digest (no slow password hash) is as safe as it needs
to be and keeps a request's check to one indexed read and one hash.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from portal.errors import InvalidFields, NotFound
from portal.integrations.api.models import ApiToken

PREFIX = "lb_"
# last_used_at is written at most this often per token: a busy client does not turn every
# read into a write.
TOUCH_EVERY = timedelta(minutes=1)
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user, name: str, read_only: bool = False) -> tuple[ApiToken, str]:
    """A new token for `user`, and its secret text, which is shown once and never again."""
    name = (name or "").strip()
    if not name:
        raise InvalidFields({"name": [{"message": "Name the token.", "code": "required"}]})
    if len(name) > NAME_MAX_LENGTH:
        message = f"Use at most {NAME_MAX_LENGTH} characters."
        raise InvalidFields({"name": [{"message": message, "code": "max_length"}]})
    prefix = secrets.token_hex(4)
    raw = f"{PREFIX}{prefix}_{secrets.token_urlsafe(20)}"
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, digest=digest_of(raw), read_only=read_only
    )
    return token, raw


def token_revoke(*, token_id: int, by) -> ApiToken:
    """Revoke one of `by`'s own tokens; from now on it proves nothing."""
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(pk=token_id, user=by).first()
        if token is None:
            raise NotFound("You have no such token.")
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token `raw` is, with its user; None when it is no token of ours."""
    if not raw.startswith(PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(PREFIX) :].split("_", 1)[0]
    token = (
        ApiToken.objects.select_related("user")
        .filter(prefix=prefix, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or not hmac.compare_digest(token.digest, digest_of(raw)):
        return None
    _touch(token)
    return token


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at and now - token.last_used_at < TOUCH_EVERY:
        return
    # A conditional update: of two requests at once, one writes.
    ApiToken.objects.filter(pk=token.pk, last_used_at=token.last_used_at).update(last_used_at=now)
    token.last_used_at = now
