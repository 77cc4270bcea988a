from django.apps import AppConfig


class LeadsConfig(AppConfig):
    """The kernel: leads, submissions, their events, the lifecycle and row locks."""

    name = "leads"
    verbose_name = "Leads"
