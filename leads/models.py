"""The kernel every capability shares: leads, the submissions that made them, their history.

Stages change only through `leads.lifecycle`; every change of a lead writes one `LeadEvent`
in the same transaction. Forms belong to `leads.capture` and queues to `leads.routing`; the
kernel refers to their tables by name and never imports those apps.
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


class LostReason(models.TextChoices):
    PRICE = "price", "Price"
    COMPETITOR = "competitor", "Chose a competitor"
    NO_DECISION = "no_decision", "No decision / went quiet"
    TIMING = "timing", "Bad timing"
    FEATURES = "features", "Missing features"
    OTHER = "other", "Other"


class ContactChannel(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "E-mail"
    MEETING = "meeting", "Meeting"


class Lead(models.Model):
    # Unique by a constraint rather than `unique=True`, which on PostgreSQL also makes a
    # `varchar_pattern_ops` index for prefix searches that nothing here makes (the searches
    # are `icontains`): one index less to write for every new lead.
    # NULL for a lead whose post had no valid address (a Web-to-Lead post Salesforce would
    # keep): the unique constraint never compares NULLs, so each is a lead of its own rather
    # than one lead gathering every stranger's post under a made-up address.
    email = models.EmailField(  # noqa: DJ001 - NULL, unlike "", is never a duplicate
        null=True, blank=True, help_text="Normalised: trimmed and lower-cased. Empty: none given."
    )
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    company = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.CAPTURED)
    score = models.IntegerField(null=True, blank=True)
    source_form = models.ForeignKey("capture.Form", on_delete=models.PROTECT, related_name="leads")
    campaign = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_leads",
        db_index=False,  # the index on (owner, stage) serves every lookup by owner
    )
    queue = models.ForeignKey(
        "routing.Queue",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="leads",
        db_index=False,  # lead_queue_idx: only leads that have a queue
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    first_action_at = models.DateTimeField(null=True, blank=True)
    nurture_until = models.DateField(
        null=True, blank=True, help_text="A recycled lead comes back to sales on this day."
    )
    # The service-level clock: what the rep owes the lead next and by when, in working time
    # (set at every move that starts or stops a clock; empty when no clock runs).
    due_step = models.CharField(
        max_length=8,
        blank=True,
        editable=False,
        choices=[("accept", "Accept or reject"), ("contact", "First contact")],
    )
    due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The escalation ladder's bookkeeping (leads/clock.py, leads/routing/escalation.py): when
    # the running clock started, when its rep is reminded (empty once reminded), and how many
    # times the ladder has given the lead to another rep during this step.
    due_from = models.DateTimeField(null=True, blank=True, editable=False)
    remind_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalations = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    # Amber in the inbox from here: the reminder's moment (the queue's share of the step's
    # time), kept after the reminder is sent; empty when the queue never reminds.
    due_soon_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Service-level compliance, per step (leads/clock.py): due under the agreement's time from
    # entering the step, the rep who held the lead then, and when the step was done. The rep
    # columns carry no constraint in the database: the clock copies them from `owner` as the
    # step begins, so the owner's constraint has just checked the same user (routing wrote
    # both in every routed lead's UPDATE, and PostgreSQL checked each again); Django still
    # sets them to NULL when the user is deleted.
    accept_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    accept_met_at = models.DateTimeField(null=True, blank=True, editable=False)
    accept_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    contact_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    contact_met_at = models.DateTimeField(null=True, blank=True, editable=False)
    contact_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    route_due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="A qualified lead no queue had room for is tried again then.",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["email"], name="lead_unique_email")]
        indexes = [
            models.Index(fields=["stage", "stage_changed_at"]),
            # Only leads a rep has: most leads never get one (captured, disqualified), and
            # nothing looks leads up by the lack of an owner or a queue, so a new lead
            # writes neither index.
            # A rep's tabs read their page in order, not by sorting every lead they own:
            # a stage's leads newest move first (Won, Lost, Rejected, a stage filter), every
            # lead newest move first ("All"), and the open leads by due time ("Needs action").
            # The open stages are OPEN_STAGES (leads.lifecycle; a test keeps them equal),
            # written out so that the migration is stable.
            models.Index(
                fields=["owner", "stage", "stage_changed_at", "id"],
                condition=Q(owner__isnull=False),
                name="lead_owner_stage_idx",
            ),
            models.Index(
                fields=["owner", "stage_changed_at", "id"],
                condition=Q(owner__isnull=False),
                name="lead_owner_moved_idx",
            ),
            models.Index(
                fields=["owner", "due_at", "stage_changed_at", "id"],
                condition=Q(
                    owner__isnull=False,
                    stage__in=["accepted", "contacted", "opportunity", "routed"],
                ),
                name="lead_owner_open_idx",
            ),
            # Whoever sees every lead reads their page in order too: the open leads by due
            # time ("Needs action"), every lead newest move first ("All"; a stage's tab scans
            # it backwards for that stage's leads). Two indexes, not one per tab: each is
            # written by the handoff (docs/inbox.md). `due_soon_at` rides along so the "Due
            # soon" and "On time" filters count from the index alone (the clock writes it with
            # `due_at`, which is indexed already: no update that was HOT stops being so).
            models.Index(
                fields=["due_at", "stage_changed_at", "id"],
                include=["due_soon_at"],
                condition=Q(stage__in=["accepted", "contacted", "opportunity", "routed"]),
                name="lead_open_idx",
            ),
            models.Index(fields=["stage_changed_at", "id"], name="lead_moved_idx"),
            models.Index(fields=["queue"], condition=Q(queue__isnull=False), name="lead_queue_idx"),
            models.Index(fields=["created_at"]),
            # The inbox's "needs action" order and the escalation step: open clocks only.
            models.Index(fields=["due_at"], condition=Q(due_at__isnull=False), name="lead_due_idx"),
            # The ladder's reminders not yet sent: open clocks of queues that remind, only.
            models.Index(
                fields=["remind_at"], condition=Q(remind_at__isnull=False), name="lead_remind_idx"
            ),
            # The sweeper's "unrouted": few rows, however many leads there are.
            models.Index(
                fields=["stage_changed_at"],
                condition=Q(stage="qualified"),
                name="lead_unrouted_idx",
            ),
        ]
        permissions = [
            ("view_all_leads", "Can see every lead, not only their own"),
            ("work_lead", "Can work the leads in their own inbox"),
            ("reassign_lead", "Can give a lead to another rep"),
            ("view_dashboard", "Can see the shared dashboard"),
            ("export_leads", "Can export leads and submissions as CSV"),
        ]

    def __str__(self) -> str:
        return self.email or f"Lead {self.pk} (no e-mail)"

    def get_absolute_url(self) -> str:
        return reverse("inbox:lead", kwargs={"pk": self.pk})

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Submission(models.Model):
    """One post of a form, stored exactly as received. Append-only.

    The one exception is `qualify_due_at`, the handoff's bookkeeping: the stored submission
    is the outbox of its scoring step. It is due when the submission is stored, emptied once
    the submission is scored, and put off when its batch failed (leads/handoff/services.py).
    """

    form = models.ForeignKey("capture.Form", on_delete=models.PROTECT, related_name="submissions")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="submissions")
    form_version = models.ForeignKey(
        "capture.FormVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submissions",
        help_text="The published version of the form this was made against.",
    )
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    page_url = models.CharField(max_length=2000, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    consent = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    qualify_due_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        default=timezone.now,
        help_text="When the handoff scores it; empty once scored.",
    )
    problems = models.JSONField(
        default=list,
        blank=True,
        help_text="What was wrong with fields kept as sent: [{field, code, message, raw}].",
    )
    FROM_A_VIEW = "page"  # the intake of the hosted page and the embed: a view came before it
    intake = models.CharField(
        max_length=16,
        blank=True,
        default="",
        db_default="",
        help_text="The entry point that took it: page (the hosted page or the embed), api, "
        "hubspot, hubspot_v2, web_to_lead, import; blank if stored before this was kept, or "
        "written straight by the demo and tests.",
    )
    for_reps = models.BooleanField(
        default=True,
        db_default=True,
        help_text="False: a CSV import said not to hand its open leads to reps. A lead only "
        "such submissions brought is scored, then kept in nurture (leads/handoff/services.py).",
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            # The sweeper's "unscored": only pending rows are in it.
            models.Index(
                fields=["qualify_due_at"],
                condition=Q(qualify_due_at__isnull=False),
                name="submission_unscored_idx",
            ),
            # Routing asks, per batch, which leads such an import brought: few rows, or none.
            models.Index(
                fields=["lead"], condition=Q(for_reps=False), name="submission_not_for_reps_idx"
            ),
        ]
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


class LeadEvent(models.Model):
    """One thing that happened to a lead: who, when, what, and why. Append-only.

    The single source for the lead's timeline, the dashboard and, later, webhooks: the id
    only grows, so a consumer keeps a cursor on it. Written by `leads.events` in the same
    transaction as the change it records.
    """

    class Kind(models.TextChoices):
        SUBMISSION_RECEIVED = "submission_received", "Submission received"
        STAGE_CHANGED = "stage_changed", "Stage changed"
        ASSIGNED = "assigned", "Assigned"
        REASSIGNED = "reassigned", "Reassigned"
        CONTACT_LOGGED = "contact_logged", "Contact logged"
        NOTE = "note", "Note"
        # The escalation ladder (leads/routing/escalation.py); a breach's reassignment is a
        # REASSIGNED event of LeadBridge's with `data["ladder"]`.
        SLA_REMINDER = "sla_reminder", "Service level: reminder"
        SLA_BREACHED = "sla_breached", "Service level: breached"
        BACK_FROM_NURTURE = "back_from_nurture", "Back from nurture"
        FLAGGED = "flagged", "Flagged: should not have qualified"

    id = models.BigAutoField(primary_key=True)
    # Events are the biggest table, written on every capture and move: no index that no
    # query reads. (lead, id) serves the timeline and every lookup by lead; nothing looks
    # events up by actor (deleting a user, which PROTECT checks, is an admin's rare act).
    # No constraint in the database (three `FOR KEY SHARE` checks a lead in the handoff): every
    # writer of an event holds its lead in the same transaction, locked, inserted or updated
    # (`leads.events`), and no product code deletes a lead; Django still cascades a deletion.
    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Blank when LeadBridge itself made the change.",
        db_index=False,
    )
    from_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=Stage.choices, blank=True)
    reason = models.TextField(help_text="The sentence a person reads in the timeline.")
    reason_code = models.CharField(
        max_length=32, blank=True, help_text="A rejection or lost reason from its list."
    )
    data = models.JSONField(default=dict, blank=True, help_text="What this kind carries.")

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["lead", "id"]),
            models.Index(fields=["kind", "to_stage", "at"]),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.STAGE_CHANGED:
            return f"{self.lead}: {self.from_stage or '-'} -> {self.to_stage}"
        return f"{self.lead}: {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("A lead event is history: it is written once and never edited.")
        super().save(*args, **kwargs)

    @property
    def actor_name(self) -> str:
        return str(self.actor) if self.actor else "LeadBridge"


class RepeatSubmissionNotice(models.Model):
    """A lead already with a rep sent a form again: the owner is told until they have seen it.

    Written by the capture in the transaction that stores the submission; `seen_at` is set
    when the rep acknowledges it on the lead page.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="repeat_notices")
    submission = models.OneToOneField(
        Submission, on_delete=models.PROTECT, related_name="repeat_notice"
    )
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # The inbox's marker asks, per lead, "any unseen?": only unseen rows are in it.
            models.Index(
                fields=["lead"], condition=Q(seen_at__isnull=True), name="repeat_notice_unseen_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead}: submitted again at {self.created_at:%Y-%m-%d %H:%M}"
