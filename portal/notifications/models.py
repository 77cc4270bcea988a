"""What a user is told: a row per notification in the portal, sent by e-mail as they chose.

The app knows nothing of leads, agreements or imports: whoever writes a notification gives
its words and the page it points to (`services.Notice`); a lead is referred to by name only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Kind(models.TextChoices):
    LEAD_ASSIGNED = "lead_assigned", "A lead was assigned to you"
    LEAD_DUE_SOON = "lead_due_soon", "A lead of yours is due soon"
    LEAD_BREACHED = "lead_breached", "A lead breached its service level or was taken from you"
    LEAD_REASSIGNED = "lead_reassigned", "A lead was reassigned to you"
    LEAD_BACK_FROM_NURTURE = "lead_back_from_nurture", "A lead came back from nurture"
    LEAD_SUBMITTED_AGAIN = "lead_submitted_again", "A lead of yours submitted a form again"
    AGREEMENT_TO_SIGN = "agreement_to_sign", "An agreement awaits your signature"
    AGREEMENT_ACTIVE = "agreement_active", "An agreement became active"
    IMPORT_FINISHED = "import_finished", "An import you started finished"
    WEBHOOK_DISABLED = "webhook_disabled", "A webhook endpoint kept failing and was switched off"
    HANDOFF_REVIEW = "handoff_review", "The two-weekly handoff review is ready"


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", "E-mail at once"
    DIGEST = "digest", "In the daily digest"
    OFF = "off", "No e-mail"


# What a user gets by e-mail until they choose otherwise: what needs them now at once, what
# is news in the daily digest.
DEFAULT_DELIVERY: dict[str, str] = {
    Kind.LEAD_ASSIGNED: Delivery.IMMEDIATE,
    Kind.LEAD_DUE_SOON: Delivery.IMMEDIATE,
    Kind.LEAD_BREACHED: Delivery.IMMEDIATE,
    Kind.LEAD_REASSIGNED: Delivery.IMMEDIATE,
    Kind.LEAD_BACK_FROM_NURTURE: Delivery.DIGEST,
    Kind.LEAD_SUBMITTED_AGAIN: Delivery.IMMEDIATE,
    Kind.AGREEMENT_TO_SIGN: Delivery.IMMEDIATE,
    Kind.AGREEMENT_ACTIVE: Delivery.DIGEST,
    Kind.IMPORT_FINISHED: Delivery.IMMEDIATE,
    Kind.WEBHOOK_DISABLED: Delivery.IMMEDIATE,
    Kind.HANDOFF_REVIEW: Delivery.IMMEDIATE,
}


class Notification(models.Model):
    """One thing one user is told. Shown in the portal until read; e-mailed when
    `email_due_at` comes (at once, or at the next digest), then `emailed_at` is set."""

    id = models.BigAutoField(primary_key=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # (recipient, id) serves every lookup by recipient
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True, help_text="The page it is about.")
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    delivery = models.CharField(max_length=16, choices=Delivery.choices)
    # When the e-mail is due; pushed on by a sender's claim (its lease), emptied once sent.
    email_due_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notification_recipient_idx"),
            # The bell's count, on every page: only unread rows are in it.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The sweeper's and the digest's "what is due": only unsent e-mails.
            models.Index(
                fields=["email_due_at"],
                condition=Q(email_due_at__isnull=False),
                name="notification_email_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.title}"


class NotificationPreference(models.Model):
    """A user's choice for one kind; no row means the kind's default (`DEFAULT_DELIVERY`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        db_index=False,  # the unique (user, kind) serves it
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    delivery = models.CharField(max_length=16, choices=Delivery.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notificationpreference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} by {self.delivery}"


class EmailPace(models.Model):
    """Until when a user's next e-mail waits (`emails.emails_send`): set when one is sent, to
    NOTIFICATION_EMAIL_QUIET_SECONDS later. What comes meanwhile is due then, in one message."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="email_pace",
    )
    quiet_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id}: quiet until {self.quiet_until:%H:%M:%S}"
