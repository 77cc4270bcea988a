"""The OpenAPI schema's shared parts: the token scheme, and every operation's error
answers in the one error shape."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status

from portal.integrations.api.serializers import ErrorSerializer

ERRORS = {
    status.HTTP_400_BAD_REQUEST: "A field is wrong: `errors` names it and says why.",
    status.HTTP_401_UNAUTHORIZED: "No valid token or session.",
    status.HTTP_403_FORBIDDEN: "Your role (or a read-only token) does not allow this.",
    status.HTTP_404_NOT_FOUND: "No such object, or not one you may see.",
    status.HTTP_429_TOO_MANY_REQUESTS: "Too many requests: wait `Retry-After` seconds.",
}


def errors_for(body, code: int = status.HTTP_200_OK, *, conflict: bool = False) -> dict:
    """The success answer `body` under `code`, and the error answers every operation has
    (409 too where the object's state can refuse the request)."""
    answers = {code: body}
    answers.update(
        {
            error: OpenApiResponse(ErrorSerializer, description=text)
            for error, text in ERRORS.items()
        }
    )
    if conflict:
        answers[status.HTTP_409_CONFLICT] = OpenApiResponse(
            ErrorSerializer, description="The object is no longer in a state that allows this."
        )
    return answers


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "portal.integrations.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from your profile page: `lb_…`.",
        }


def only_v1(endpoints):
    """The schema describes the REST API (this package); the intake endpoints under
    /api/v1/forms/<slug>/ have their own docs (docs/forms-and-intake.md)."""
    ours = __name__.rsplit(".", 1)[0]
    return [
        (path, regex, method, callback)
        for path, regex, method, callback in endpoints
        if callback.cls.__module__.startswith(ours)
    ]
