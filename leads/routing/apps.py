from django.apps import AppConfig


class RoutingConfig(AppConfig):
    """Sales queues and who gets which qualified lead."""

    name = "leads.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from leads.routing import tasks
        from leads.signals import reps_freed

        reps_freed.connect(tasks.after_reps_freed, dispatch_uid="routing.after_reps_freed")
