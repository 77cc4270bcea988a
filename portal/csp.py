"""django-csp's middleware, with the site's policy built once instead of on every response."""

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

# What a view sets to change the policy of one response (django-csp's decorators, and
# leads/capture/builder/embedding.py's frame-ancestors).
PER_RESPONSE = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")


class SitePolicyMiddleware(CSPMiddleware):
    """Building the policy from the settings took ~45 µs a response, 6% of a hosted form's
    time: a response that changes nothing (no decorator, no nonce) gets the string built
    once per CONTENT_SECURITY_POLICY; anything else goes through django-csp as usual."""

    _built: tuple[object, str] | None = None

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        plain = (
            not any(hasattr(response, name) for name in PER_RESPONSE)
            and getattr(request, "_csp_nonce", None) is None
            and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            and not settings.DEBUG
        )
        if not plain:
            return super().process_response(request, response)
        if HEADER not in response:
            response[HEADER] = self._site_policy()
        return response

    @classmethod
    def _site_policy(cls) -> str:
        config = settings.CONTENT_SECURITY_POLICY
        if cls._built is None or cls._built[0] is not config:
            cls._built = (config, build_policy())
        return cls._built[1]
