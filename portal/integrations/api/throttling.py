from rest_framework.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    """Requests per token (or per session user), else per address: API_RATE in settings.
    Over it: 429 with Retry-After, in the one error shape (portal/error_handlers.py)."""

    scope = "api"

    def get_cache_key(self, request, view) -> str:
        token = request.auth
        if getattr(token, "pk", None):
            ident = f"token-{token.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
