from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        checks.register(broker_configured, checks.Tags.compatibility, deploy=True)


def broker_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Without a broker every task runs inside the web request that started it."""
    if settings.CELERY_BROKER_URL:
        return []
    return [
        checks.Warning(
            "No Celery broker: scoring and routing run inside web requests.",
            hint="Set CELERY_BROKER_URL (or REDIS_URL) and run a worker and beat.",
            id="leads.W001",
        )
    ]
