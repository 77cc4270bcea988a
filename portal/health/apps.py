from django.apps import AppConfig


class HealthConfig(AppConfig):
    """What /healthz/ and `pipeline_status` know of the workers: when each queue last had one."""

    name = "portal.health"
    label = "health"
    verbose_name = "Health"
