from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "portal.integrations.api"
    label = "api"
    verbose_name = "REST API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.integrations.api import schema  # noqa: F401 - registers the token scheme
