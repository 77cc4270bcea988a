from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class HandoffConfig(AppConfig):
    """The order of the handoff: capture, then qualify, then route, in batches; beat behind."""

    name = "leads.handoff"
    label = "handoff"
    verbose_name = "Handoff"

    def ready(self) -> None:
        from leads.handoff import tasks
        from leads.signals import leads_qualified, submission_stored

        submission_stored.connect(tasks.after_capture, dispatch_uid="handoff.after_capture")
        leads_qualified.connect(tasks.after_qualified, dispatch_uid="handoff.after_qualified")
        checks.register(broker_configured, checks.Tags.compatibility, deploy=True)


def broker_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Without a broker every task runs inside the web request that started it."""
    if settings.CELERY_BROKER_URL:
        return []
    return [
        checks.Warning(
            "No Celery broker: scoring and routing run inside web requests.",
            hint="Set CELERY_BROKER_URL (or REDIS_URL) and run a worker and beat.",
            id="handoff.W001",
        )
    ]
