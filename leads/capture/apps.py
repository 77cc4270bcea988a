from django.apps import AppConfig


class CaptureConfig(AppConfig):
    """Lead capture: forms, the hosted page and the JSON intake."""

    name = "leads.capture"
    label = "capture"
    verbose_name = "Capture"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled
        from django.core import checks
        from django.db.models.signals import post_delete, post_save

        from leads.capture.builder.embedding import cors_for_listed_origins
        from leads.capture.checks import rate_limits_configured
        from leads.capture.models import Form, FormVersion
        from leads.capture.selectors import forget_published_forms

        check_request_enabled.connect(cors_for_listed_origins, dispatch_uid="capture-cors")
        for model in (Form, FormVersion):
            for signal in (post_save, post_delete):
                signal.connect(forget_published_forms, sender=model, dispatch_uid="capture-forms")
        checks.register(rate_limits_configured, checks.Tags.security)
