from django.apps import AppConfig


class ScoringConfig(AppConfig):
    """Agreements, the pure rules engine, and every lead's judgement by them."""

    name = "scoring"
    verbose_name = "Scoring"

    def ready(self) -> None:
        from portal.countries import country_name
        from scoring import explain

        explain.country_name = country_name
