from django.apps import AppConfig


class CaptureConfig(AppConfig):
    """Lead capture: forms, the hosted page and the JSON intake."""

    name = "leads.capture"
    label = "capture"
    verbose_name = "Capture"
