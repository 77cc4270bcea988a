from rest_framework import authentication, exceptions

from portal.integrations.api.services import token_authenticate

KEYWORD = "Bearer"


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer lb_…`: a personal token, acting as its user (role and object
    rules included). `request.auth` is the token, so a read-only one can be told apart."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != KEYWORD.lower():
            return None
        token = token_authenticate(raw.strip())
        if token is None:
            raise exceptions.AuthenticationFailed(
                "The token is unknown or revoked.", code="invalid_token"
            )
        return token.user, token

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'
