from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required


def permission_required_or_403(perm: str) -> Callable:
    """Guard a view: anonymous visitors go to log in; signed-in users without `perm` get 403.

    Django's permission_required alone sends both to the login page, which sends a signed-in
    user straight back (redirect_authenticated_user), round and round.
    """

    def decorator(view: Callable) -> Callable:
        return login_required(permission_required(perm, raise_exception=True)(view))

    return decorator
