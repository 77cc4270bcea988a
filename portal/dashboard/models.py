from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils import timezone


class HandoffReview(models.Model):
    """One two-weekly handoff review, frozen: the dashboard's panels for its period as they
    read when it was made (the same tables the page and the CSV show), and each side's notes.

    The panels never change once written; only the notes do.
    """

    since = models.DateField()
    until = models.DateField(help_text="The last day of the period, included.")
    made_at = models.DateTimeField(default=timezone.now)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Blank when LeadBridge made it on its schedule.",
    )
    panels = models.JSONField(encoder=DjangoJSONEncoder, editable=False)
    marketing_notes = models.TextField(blank=True)
    sales_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-until", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["since", "until"], name="review_unique_period")
        ]

    def __str__(self) -> str:
        return f"Handoff review {self.since:%d %b} to {self.until:%d %b %Y}"

    def get_absolute_url(self) -> str:
        return reverse("review", kwargs={"pk": self.pk})

    def panel(self, key: str) -> dict:
        return next(panel for panel in self.panels if panel["key"] == key)


class LeadFacts(models.Model):
    """What a lead's history proves, one row per lead, kept by database triggers (migration
    `0002_lead_facts`) in the same statement that writes the lead, its submission or its
    event: how far it went, which side exits it took, when it was first routed and first
    contacted, and its source. The dashboard reads these instead of each lead's events (at a
    million leads, the events are six million rows).

    Never written by Python: `portal.dashboard.facts.facts_rebuild` recounts every row from
    the events, and a test keeps the two equal."""

    lead = models.OneToOneField(
        "leads.Lead", on_delete=models.CASCADE, primary_key=True, related_name="facts"
    )
    furthest = models.PositiveSmallIntegerField(
        default=0, help_text="The furthest main stage its events prove (0 captured, 6 won)."
    )
    disqualified = models.BooleanField(default=False)
    rejected = models.BooleanField(default=False)
    recycled = models.BooleanField(default=False)
    lost = models.BooleanField(default=False)
    routed_at = models.DateTimeField(null=True, blank=True, help_text="First routed.")
    contacted_at = models.DateTimeField(null=True, blank=True, help_text="First contact.")
    source = models.TextField(blank=True, help_text="portal.dashboard.selectors.lead_source")

    def __str__(self) -> str:
        return f"Facts of lead {self.lead_id}"
