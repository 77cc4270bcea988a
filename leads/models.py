"""The lead lifecycle data: forms and what they capture, leads, queues and the audit trail.

Stages change only through `leads.lifecycle.lead_move`, which writes a HandoffEvent in the
same transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Stage(models.TextChoices):
    CAPTURED = "captured", "Captured"
    DISQUALIFIED = "disqualified", "Disqualified (nurture)"
    QUALIFIED = "qualified", "Qualified (MQL)"
    ROUTED = "routed", "Routed"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    RECYCLED = "recycled", "Recycled (nurture)"
    CONTACTED = "contacted", "Contacted"
    OPPORTUNITY = "opportunity", "Opportunity (SQL)"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class RejectionReason(models.TextChoices):
    NOT_A_PERSON = "not_a_person", "Not a real person"
    WRONG_TERRITORY = "wrong_territory", "Wrong territory"
    NO_BUDGET = "no_budget", "No budget"
    DUPLICATE = "duplicate", "Duplicate"
    STUDENT_OR_JOB_SEEKER = "student_or_job_seeker", "Student or job seeker"
    COMPETITOR = "competitor", "Competitor"
    OTHER = "other", "Other"


class Form(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    campaign = models.CharField(max_length=200, blank=True)
    intro = models.TextField(blank=True)
    thank_you_message = models.TextField(default="Thank you! We will be in touch shortly.")
    is_published = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(
        auto_now=True, help_text="Also moves when a field changes: the form's version."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("capture:form", kwargs={"slug": self.slug})


class FormField(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        TEXT = "text", "Text"
        TEXTAREA = "textarea", "Long text"
        NUMBER = "number", "Number"
        CHOICE = "choice", "Choice"
        CHECKBOX = "checkbox", "Checkbox"

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(max_length=64, help_text="Lead attribute this field fills.")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    required = models.BooleanField(default=False)
    max_length = models.PositiveIntegerField(default=255)
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="formfield_unique_key_per_form")
        ]

    def __str__(self) -> str:
        return f"{self.form}: {self.label}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._touch_form()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._touch_form()
        return result

    def _touch_form(self) -> None:
        # The public form class is cached per form version (leads.capture.forms).
        Form.objects.filter(pk=self.form_id).update(updated_at=timezone.now())


class Lead(models.Model):
    email = models.EmailField(unique=True, help_text="Normalised: trimmed and lower-cased.")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    company = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CAPTURED)
    score = models.IntegerField(null=True, blank=True)
    source_form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="leads")
    campaign = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_leads",
    )
    queue = models.ForeignKey(
        "Queue", null=True, blank=True, on_delete=models.PROTECT, related_name="leads"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    first_action_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["stage", "stage_changed_at"]),
            models.Index(fields=["owner", "stage"]),
            models.Index(fields=["created_at"]),
        ]
        permissions = [
            ("view_all_leads", "Can see every lead, not only their own"),
            ("work_lead", "Can work the leads in their own inbox"),
            ("view_dashboard", "Can see the shared dashboard"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_absolute_url(self) -> str:
        return reverse("inbox:lead", kwargs={"pk": self.pk})

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Submission(models.Model):
    """One post of a form, stored exactly as received. Append-only."""

    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="submissions")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="submissions")
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    page_url = models.CharField(max_length=2000, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    consent = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="submission_unique_idempotency_key_per_form",
            )
        ]

    def __str__(self) -> str:
        return f"{self.form} at {self.received_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("A submission is stored as received and never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A submission is never deleted.")


class Queue(models.Model):
    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"

    name = models.CharField(max_length=200, unique=True)
    priority = models.PositiveSmallIntegerField(
        default=100, help_text="Queues are tried in this order, lowest first."
    )
    match_attribute = models.CharField(
        max_length=64, blank=True, help_text="Lead attribute the rule reads; blank takes all."
    )
    match_values = models.JSONField(default=list, blank=True)
    strategy = models.CharField(
        max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    capacity_per_rep = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most open leads a rep may hold; blank is no limit."
    )
    last_position = models.IntegerField(
        default=-1, help_text="Round-robin cursor: position of the member assigned last."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name

    def takes(self, attributes: dict) -> bool:
        if not self.match_attribute:
            return True
        value = attributes.get(self.match_attribute)
        return str(value).casefold() in {str(v).casefold() for v in self.match_values}


class QueueMember(models.Model):
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="members")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships"
    )
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["queue", "position"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "rep"], name="queuemember_unique_rep"),
            models.UniqueConstraint(
                fields=["queue", "position"], name="queuemember_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rep} in {self.queue}"


class Assignment(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="assignments")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-assigned_at"]

    def __str__(self) -> str:
        return f"{self.lead} to {self.rep}"


class HandoffEvent(models.Model):
    """One change of a lead's stage: who, when, from what, to what, and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Blank when LeadBridge itself made the change.",
    )
    reason = models.TextField()
    rejection_reason = models.CharField(max_length=32, choices=RejectionReason.choices, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["to_stage", "at"])]

    def __str__(self) -> str:
        return f"{self.lead}: {self.from_stage or '-'} -> {self.to_stage}"

    @property
    def actor_name(self) -> str:
        return str(self.actor) if self.actor else "LeadBridge"
