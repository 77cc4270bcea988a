"""Domain errors: what went wrong, in words for people and a code for programs.

Services raise these; they never build responses. One handler turns them into JSON for API
callers and one into a page (with a message) for people (`portal.error_handlers`), so a
refused move, a lost race or a bad value reads the same everywhere. The JSON shape is
written once in docs/errors.md and built only by `error_body`.
"""

from http import HTTPStatus

ALL_FIELDS = "__all__"

ErrorList = list[dict[str, str]]


class DomainError(Exception):
    """A refusal a caller can act on. `status` is the HTTP status it answers with."""

    code = "invalid"
    status = HTTPStatus.BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str = ALL_FIELDS,
        status: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code
        if status:
            self.status = HTTPStatus(status)

    @property
    def errors(self) -> dict[str, ErrorList]:
        return {self.field: [{"message": self.message, "code": self.code}]}

    def as_json(self) -> dict:
        return error_body(self.code, self.errors)


class InvalidFields(DomainError):
    """Several fields refused at once, such as a form's errors: {field: [{message, code}]}."""

    def __init__(self, errors: dict[str, ErrorList], *, code: str = "invalid"):
        field, problems = next(iter(errors.items()))
        super().__init__(problems[0]["message"], code=code, field=field)
        self._errors = errors

    @property
    def errors(self) -> dict[str, ErrorList]:
        return self._errors


class Conflict(DomainError):
    """The request was fine but the lead (or agreement) is no longer where it was: 409."""

    code = "conflict"
    status = HTTPStatus.CONFLICT


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = HTTPStatus.FORBIDDEN


class NotFound(DomainError):
    code = "not_found"
    status = HTTPStatus.NOT_FOUND


class PayloadTooLarge(DomainError):
    code = "too_large"
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedMediaType(DomainError):
    code = "unsupported_media_type"
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class RateLimited(DomainError):
    """Too many requests from this caller (or to this form) for now: 429 with Retry-After."""

    code = "rate_limited"
    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after_seconds: int, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    """A service we need (the database) is down for now; the caller may retry later."""

    code = "unavailable"
    status = HTTPStatus.SERVICE_UNAVAILABLE
    retry_after_seconds = 30


def error_body(code: str, errors: dict[str, ErrorList]) -> dict:
    """The one JSON error shape every endpoint answers with (docs/errors.md)."""
    return {"code": code, "errors": errors}


def single_error(code: str, message: str, *, field: str = ALL_FIELDS) -> dict:
    return error_body(code, {field: [{"message": message, "code": code}]})
