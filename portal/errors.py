"""Domain errors: what went wrong, in words for people and a code for programs.

Services raise these; they never build responses. One handler turns them into JSON for API
callers and one into a page (with a message) for people, so a refused move, a lost race or a
bad value reads the same everywhere. The JSON shape, written once (see the README):

    {"code": "<what happened>",
     "errors": {"<field or __all__>": [{"message": "...", "code": "..."}]}}
"""

from http import HTTPStatus

ALL_FIELDS = "__all__"


class DomainError(Exception):
    """A refusal a caller can act on. `status` is the HTTP status it answers with."""

    code = "invalid"
    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, *, code: str | None = None, field: str = ALL_FIELDS):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_json(self) -> dict:
        return error_body(self.code, {self.field: [{"message": self.message, "code": self.code}]})


class Conflict(DomainError):
    """The request was fine but the lead (or agreement) is no longer where it was: 409."""

    code = "conflict"
    status = HTTPStatus.CONFLICT


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = HTTPStatus.FORBIDDEN


def error_body(code: str, errors: dict[str, list[dict[str, str]]]) -> dict:
    """The one JSON error shape every endpoint answers with."""
    return {"code": code, "errors": errors}


def single_error(code: str, message: str, *, field: str = ALL_FIELDS) -> dict:
    return error_body(code, {field: [{"message": message, "code": code}]})
