from django.apps import AppConfig


class ScoringConfig(AppConfig):
    """Agreements, the pure rules engine, and every lead's judgement by them."""

    name = "scoring"
    verbose_name = "Scoring"
