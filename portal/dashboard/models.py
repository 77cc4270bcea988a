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
    """One row per lead, what the dashboard counts, recounted (`portal.dashboard.facts`) after
    its lead, a submission, an event or a judgement was written: the lead's own columns the
    filters and groups read (and its service levels' steps), what its events prove (how far
    it went, which side exits it took, when it was first routed and first contacted), its
    source, and what its judgements in force say (score, verdict, agreement, failed
    criteria). A panel reads these narrow rows, not the lead, its six events and its
    judgements (at a million leads, six million events and twelve million criterion results).

    Written only by the recount's SQL: `facts_fold` for the leads marked since (`FactsStale`),
    `facts_rebuild` for every lead; a test keeps the folded rows equal to a recount."""

    lead = models.OneToOneField(
        "leads.Lead", on_delete=models.CASCADE, primary_key=True, related_name="facts"
    )
    # The lead's own, copied (Lead's fields of the same names).
    created_at = models.DateTimeField()
    form = models.ForeignKey(
        "capture.Form", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    campaign = models.CharField(max_length=200, blank=True)
    queue = models.ForeignKey(
        "routing.Queue",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    stage = models.CharField(max_length=16)
    first_action_at = models.DateTimeField(null=True)
    accept_due_at = models.DateTimeField(null=True)
    accept_met_at = models.DateTimeField(null=True)
    accept_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    contact_due_at = models.DateTimeField(null=True)
    contact_met_at = models.DateTimeField(null=True)
    contact_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    source = models.TextField(
        blank=True,
        help_text="The first submission's utm_source, else the attributes' utm_source, "
        "origin or source.",
    )
    # What its events prove.
    furthest = models.PositiveSmallIntegerField(
        default=0, help_text="The furthest main stage its events prove (0 captured, 6 won)."
    )
    disqualified = models.BooleanField(default=False)
    rejected = models.BooleanField(default=False)
    recycled = models.BooleanField(default=False)
    lost = models.BooleanField(default=False)
    # The reason codes of its moves to rejected and to lost, each between commas
    # (",no_budget,": "" is a move without a reason, ",,"); "," when none.
    rejected_reasons = models.CharField(max_length=500, default=",")
    lost_reasons = models.CharField(max_length=500, default=",")
    routed_at = models.DateTimeField(null=True, help_text="First routed.")
    contacted_at = models.DateTimeField(null=True, help_text="First contact.")
    # What its judgements in force say (`scoring.Qualification`, one per submission).
    judgements = models.TextField(
        blank=True,
        default="",
        help_text="Each judgement in force as agreement id:score:1 (qualified) or 0, "
        "comma-separated.",
    )
    failed_criteria = models.TextField(
        blank=True,
        default="",
        help_text="The ids of the criteria any judgement in force failed, comma-separated.",
    )

    class Meta:
        indexes = [
            # With the speed panels' timestamps: they read the period from the index alone
            # (an index-only scan, not a heap row a lead), docs/performance.md.
            models.Index(
                fields=["created_at"],
                include=["first_action_at", "routed_at", "contacted_at"],
                name="leadfacts_created_idx",
            ),
            models.Index(fields=["owner", "created_at"], name="leadfacts_owner_idx"),
            # For the campaigns offered (selectors.campaigns). No index a filter: a filtered
            # panel reads the period's rows as the unfiltered one does, and each index more
            # is written on every facts update that is not HOT (docs/performance.md).
            models.Index(fields=["campaign"], name="leadfacts_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"Facts of lead {self.lead_id}"


class FactsStale(models.Model):
    """A lead whose facts a transaction changed and no fold has recounted yet: written by the
    database triggers (`portal.dashboard.facts`) in the writer's transaction, deleted by the
    fold that recounts the lead. `tx`: the writer's transaction id on PostgreSQL (0 on
    SQLite), so a writer only ever meets its own marks (the facts module says why)."""

    pk = models.CompositePrimaryKey("lead_id", "tx")
    # No foreign key: a mark is written for every row the triggers see, and checking each
    # would cost the writers what the marks save them.
    lead_id = models.BigIntegerField()
    tx = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Facts of lead {self.lead_id} to fold"
