"""Endpoints, and the outbox that feeds them: a Delivery row per endpoint per event, written in
the transaction of the event itself (never a cursor on an event id: ids are taken at insert,
not at commit, so a reader that keeps the highest could skip one committed later), and an
attempt row per try.
"""

import base64
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class Endpoint(models.Model):
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500, verbose_name="URL")
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    kinds = models.JSONField(default=list, help_text="The event kinds it receives.")
    is_active = models.BooleanField(default=True)
    # Why it was switched off (by whom, or after failing for how long); empty when on.
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first failure since its last success: an endpoint failing for long is switched off.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One event for one endpoint. `msg_id` (the `webhook-id` header) is the same on every
    attempt and on a redelivery, so a receiver can drop what it has already seen."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    kind = models.CharField(max_length=40)
    msg_id = models.CharField(max_length=40, unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When it may be tried next; pushed on by a sender's claim (its lease), empty once done.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Which claim took its latest attempt: a batch claims many rows in one UPDATE, then reads
    # back the ones it got by this token.
    claim = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-id"], name="delivery_endpoint_idx"),
            # The sweeper's "what is due": only deliveries still to be tried.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(next_attempt_at__isnull=False),
                name="delivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.endpoint_id} ({self.status})"


class DeliveryAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    at = models.DateTimeField(default=timezone.now)
    # The HTTP status; None when no answer came (refused, timed out, guard said no).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.delivery_id} at {self.at}: {self.status_code or self.error}"
