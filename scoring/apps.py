from django.apps import AppConfig


class ScoringConfig(AppConfig):
    """Agreements, the pure rules engine, and every lead's judgement by them."""

    name = "scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        from leads import clock
        from portal.countries import country_name
        from scoring import explain
        from scoring.selectors import service_levels_by_form

        explain.country_name = country_name
        # The lead clock counts in the agreement's service levels and working hours.
        clock.service_levels = service_levels_by_form
