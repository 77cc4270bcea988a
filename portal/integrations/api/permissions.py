from rest_framework import permissions

from portal.integrations.api.models import ApiToken


class WritesNeedAWritingToken(permissions.BasePermission):
    """A read-only token reads; it never changes anything (403)."""

    message = "This token is read-only."
    code = "read_only_token"

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.read_only:
            return request.method in permissions.SAFE_METHODS
        return True


class HasPerms(permissions.BasePermission):
    """The view's `perms`: {method or "read"/"write": permission}, checked with has_perm, so
    a custom role composed of the same permissions works too."""

    message = "Your role does not include this."

    def has_permission(self, request, view) -> bool:
        needed = view.required_perms(request)
        return all(request.user.has_perm(perm) for perm in needed)
