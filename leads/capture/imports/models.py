"""CSV imports: the uploaded file, how its columns map, how far it got, and every row's fate.

A lead without an e-mail address is known by an external id from its source (Olist's
`mql_id`); `ExternalLeadId` keeps that identity, one lead per (source, external id).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class LeadImport(models.Model):
    class Status(models.TextChoices):
        MAPPING = "mapping", "Mapping the columns"
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    form = models.ForeignKey("capture.Form", on_delete=models.PROTECT, related_name="imports")
    source = models.SlugField(
        max_length=64, help_text="Where the rows come from; external ids are unique per source."
    )
    file_name = models.CharField(max_length=255)
    content = models.TextField(help_text="The file as uploaded (UTF-8), read again by the task.")
    columns = models.JSONField(default=list, help_text="The file's header, in order.")
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Per column: its target, blank values and format."
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    route_open_leads = models.BooleanField(
        default=True,
        help_text="False: open leads (no outcome in the file) are scored but not handed to "
        "reps; the qualified ones are kept in nurture for marketing.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_leads = models.PositiveIntegerField(default=0)
    updated_leads = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Still queued or running then, its message is presumed lost: queued again.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweeper's "stalled": only unfinished imports are in it.
            models.Index(
                fields=["due_at"], condition=models.Q(due_at__isnull=False), name="import_due_idx"
            )
        ]
        permissions = [("import_leads", "Can import leads from CSV files")]

    def __str__(self) -> str:
        return f"{self.file_name} into {self.form}"

    def get_absolute_url(self) -> str:
        return reverse("capture:import_detail", kwargs={"pk": self.pk})

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class ImportRow(models.Model):
    """What became of one data row of an import (row 1 is the line after the header)."""

    class Outcome(models.TextChoices):
        CREATED = "created", "New lead"
        UPDATED = "updated", "Known lead updated"
        UNCHANGED = "unchanged", "Already imported"
        SKIPPED = "skipped", "Skipped"

    lead_import = models.ForeignKey(LeadImport, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    errors = models.JSONField(default=list, blank=True, help_text='[{"field", "reason"}]')
    values = models.JSONField(default=dict, blank=True, help_text="A skipped row, as read.")

    class Meta:
        ordering = ["lead_import", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead_import", "number"], name="importrow_unique_number_per_import"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead_import} row {self.number}: {self.outcome}"


class ExternalLeadId(models.Model):
    """A lead's id in another system; how a lead without an e-mail address is known."""

    source = models.SlugField(max_length=64)
    external_id = models.CharField(max_length=200)
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="external_ids")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="externalleadid_unique_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"
