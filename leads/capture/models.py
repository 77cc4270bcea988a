"""Forms a marketer builds, the draft fields each one asks for, and its published versions.

A form's `FormField` rows are its draft: the builder edits them freely. Publishing freezes
them into a `FormVersion` (a JSON snapshot that never changes); the public page and the
JSON API serve the form's `current_version`, and every submission records the version it
was made against, so it stays readable under that version's labels.
"""

import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Form(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    campaign = models.CharField(max_length=200, blank=True)
    campaign_brief = models.TextField(
        blank=True, help_text="The campaign's goal in marketing's words, for the rep."
    )
    intro = models.TextField(blank=True)
    thank_you_message = models.TextField(default="Thank you! We will be in touch shortly.")
    redirect_url = models.URLField(
        max_length=500, blank=True, help_text="After a submission, go here instead of thanking."
    )
    consent_text = models.TextField(blank=True, help_text="The words beside the consent checkbox.")
    phone_region = models.CharField(
        max_length=2,
        default="US",
        help_text="Phone numbers written without +country code are read as from here.",
    )
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Sites (scheme://host[:port]) that may embed the form and post to it.",
    )
    guid = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="The form's id for the HubSpot and Salesforce compatible endpoints.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    current_version = models.ForeignKey(
        "FormVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version last published: what the public page serves while published.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("capture:form", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    def allows_origin(self, origin: str) -> bool:
        """Whether a page at `origin` (scheme://host[:port]) may embed the form and post."""
        return origin.strip().lower().rstrip("/") in self.allowed_origins

    def allows_return_to(self, url: str) -> bool:
        """Whether a visitor may be sent on to `url` after a post (an allowed site's page)."""
        # Control characters would be cut by urlsplit but kept in the Location header.
        if not url.isprintable() or " " in url:
            return False
        try:
            parts = urlsplit(url)
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        origin = f"{parts.scheme}://{parts.netloc}"
        redirect = urlsplit(self.redirect_url)
        return self.allows_origin(origin) or (
            bool(self.redirect_url) and origin == f"{redirect.scheme}://{redirect.netloc}".lower()
        )

    def draft_specs(self) -> list[dict[str, Any]]:
        """The draft fields as a version would freeze them."""
        return [field.spec(phone_region=self.phone_region) for field in self.fields.all()]


class FormField(models.Model):
    """One field of a form's draft. Published versions keep their own frozen copy."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        DECIMAL = "decimal", "Decimal number"
        NUMBER = "number", "Whole number"
        CHOICE = "choice", "Single choice"
        MULTICHOICE = "multichoice", "Multiple choice"
        COUNTRY = "country", "Country"
        DATE = "date", "Date"
        URL = "url", "URL"
        TEXTAREA = "textarea", "Long text"
        CONSENT = "consent", "Consent checkbox"
        CHECKBOX = "checkbox", "Yes/no checkbox"
        HIDDEN = "hidden", "Hidden (UTM or campaign value)"

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(
        max_length=64, help_text="The lead attribute this field fills; unique in the form."
    )
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    help_text = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=False)
    max_length = models.PositiveIntegerField(default=255)
    choices = models.JSONField(default=list, blank=True)
    default = models.CharField(
        max_length=500, blank=True, help_text="Shown filled in; a hidden field sends it."
    )
    blank_values = models.JSONField(
        default=list, blank=True, help_text='Values that count as blank, e.g. "Select".'
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="formfield_unique_key_per_form")
        ]

    def __str__(self) -> str:
        return f"{self.form}: {self.label}"

    def spec(self, *, phone_region: str = "US") -> dict[str, Any]:
        spec = {
            "key": self.key,
            "label": self.label,
            "kind": self.kind,
            "help_text": self.help_text,
            "required": self.required or self.key == "email",
            "max_length": self.max_length,
            "choices": list(self.choices),
            "default": self.default,
            "blank_values": list(self.blank_values),
        }
        if self.kind == self.Kind.PHONE:
            spec["region"] = phone_region
        return spec


class FormVersion(models.Model):
    """A published version of a form: its fields frozen as JSON. Never edited, never deleted."""

    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    fields = models.JSONField(help_text="The fields as published, in order (FormField.spec).")
    consent_text = models.TextField(blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["form", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="formversion_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("A published form version never changes; edit the draft.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A published form version is never deleted.")

    @property
    def labels(self) -> dict[str, str]:
        return {spec["key"]: spec["label"] for spec in self.fields}


# The import's tables live in their own module; imported here so Django registers them.
from leads.capture.import_models import ExternalLeadId, ImportRow, LeadImport  # noqa: E402

__all__ = ["ExternalLeadId", "Form", "FormField", "FormVersion", "ImportRow", "LeadImport"]
