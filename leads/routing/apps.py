from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Sales queues and who gets which qualified lead."""

    name = "leads.routing"
    label = "routing"
    verbose_name = "Routing"
