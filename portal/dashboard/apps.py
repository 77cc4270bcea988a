from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class DashboardConfig(AppConfig):
    name = "portal.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        from portal.dashboard import facts

        pre_migrate.connect(facts.before_migrate, sender=self)
        post_migrate.connect(facts.after_migrate, sender=self)
