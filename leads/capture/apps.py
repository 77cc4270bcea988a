from django.apps import AppConfig


class CaptureConfig(AppConfig):
    """Lead capture: forms, the hosted page and the JSON intake."""

    name = "leads.capture"
    label = "capture"
    verbose_name = "Capture"

    def ready(self) -> None:
        from corsheaders.signals import check_request_enabled

        from leads.capture.embedding import cors_for_listed_origins

        check_request_enabled.connect(cors_for_listed_origins, dispatch_uid="capture-cors")
