from django.apps import AppConfig


class ScoringConfig(AppConfig):
    """Agreements, the pure rules engine, and every lead's judgement by them."""

    name = "scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        from leads import clock
        from leads.signals import queue_clocks_changed
        from portal.countries import country_name
        from scoring import explain
        from scoring.selectors import service_levels_by_form
        from scoring.tasks import recount_after_queue_change

        explain.country_name = country_name
        # The lead clock counts in the agreement's service levels and working hours.
        clock.service_levels = service_levels_by_form
        # A queue's own hours (or reminder share) changed: its clocks are counted again.
        queue_clocks_changed.connect(recount_after_queue_change, dispatch_uid="scoring-recount")
