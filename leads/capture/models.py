"""Forms a marketer builds, the draft fields each one asks for, and its published versions.

A form's `FormField` rows are its draft: the builder edits them freely. Publishing freezes
them into a `FormVersion` (a JSON snapshot that never changes); the public page and the
JSON API serve the form's `current_version`, and every submission records the version it
was made against, so it stays readable under that version's labels.
"""

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from leads.capture.aliases import preset_aliases

# A Salesforce org id as Web-to-Lead's `oid` carries it: 00D and 12 more (15), maybe 3 more
# (the 18-character form); the form keeps the 15 characters that name the org.
SALESFORCE_ORG_ID = re.compile(r"^00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?$")

# An accent colour goes into a style rule: only #rrggbb, so nothing else can ride along.
ACCENT_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


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
    logo_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="An https address of the logo shown above the form (your site or CDN).",
    )
    accent_color = models.CharField(
        max_length=7,
        blank=True,
        validators=[
            RegexValidator(ACCENT_COLOR, "Write the colour as #rrggbb, e.g. #0d6efd.", "invalid")
        ],
        help_text="The colour of the form's button and top border, as #rrggbb.",
    )
    hubspot_token_hash = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="SHA-256 of the bearer token the HubSpot secure endpoint takes; blank: none.",
    )
    stop_phrases = models.JSONField(
        default=list,
        blank=True,
        help_text="Words or phrases that mark a post as spam (quarantined, not dropped).",
    )
    guid = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="The form's id for the HubSpot and Salesforce compatible endpoints.",
    )
    hubspot_portal_id = models.CharField(
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^[0-9]+$", "A HubSpot portal id is digits only.")],
        help_text="The HubSpot account (portal) id the site posts to, e.g. 62515.",
    )
    hubspot_form_guid = models.UUIDField(
        null=True,
        blank=True,
        help_text="The HubSpot form GUID the site posts to; LeadBridge's own id works too.",
    )
    salesforce_org_id = models.CharField(
        max_length=18,
        blank=True,
        validators=[
            RegexValidator(SALESFORCE_ORG_ID, "A Salesforce org id is 00D and 12 or 15 more.")
        ],
        help_text="The Salesforce org id (oid=00D...) the site's Web-to-Lead form posts.",
    )
    field_aliases = models.JSONField(
        default=preset_aliases,
        blank=True,
        help_text="Names a site posts under (HubSpot's, Salesforce's), and the key each fills.",
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
        constraints = [
            # A site names one form by them, so no two forms may share them.
            models.UniqueConstraint(
                fields=["hubspot_form_guid"],
                condition=models.Q(hubspot_form_guid__isnull=False),
                name="form_unique_hubspot_form_guid",
            ),
            models.UniqueConstraint(
                fields=["salesforce_org_id"],
                condition=~models.Q(salesforce_org_id=""),
                name="form_unique_salesforce_org_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("capture:form", kwargs={"slug": self.slug})

    @property
    def aliases(self) -> dict[str, str]:
        aliases = self.field_aliases
        return aliases if isinstance(aliases, dict) else {}

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def accent(self) -> str:
        """The accent colour, only if it is #rrggbb (also when a row was written around the
        form's validation); blank otherwise."""
        return self.accent_color if ACCENT_COLOR.match(self.accent_color or "") else ""

    @property
    def accent_text(self) -> str:
        """Black or white, whichever reads better on the accent (WCAG relative luminance)."""
        if not self.accent:
            return ""
        channels = [int(self.accent[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
        return "#000000" if luminance > 0.179 else "#ffffff"

    @property
    def logo(self) -> str:
        """The logo's address, only over https (a page served over https shows no other)."""
        return self.logo_url if self.logo_url.lower().startswith("https://") else ""

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


class HubSpotAccountToken(models.Model):
    """A private-app style token for the HubSpot secure endpoint: any form of the account.

    Made and revoked by a marketing manager; only its SHA-256 is kept (tokens.py)."""

    name = models.CharField(max_length=100, help_text="Who uses it, e.g. the website's server.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("manage_hubspot_tokens", "Can make and revoke HubSpot account tokens")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


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


class FormDailyViews(models.Model):
    """How many times a form was shown (hosted page or embed) on one day.

    One row per form and day, bumped with one UPDATE ... SET views = views + 1, so a view
    costs one short statement and the table grows by one row per form a day, not per view.
    """

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="daily_views")
    day = models.DateField()
    views = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "day"], name="formdailyviews_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.form} on {self.day}: {self.views}"


class QuarantinedPost(models.Model):
    """A post that looked like spam: kept as received, out of the leads until a person decides.

    It was valid against its form version, so a release hands `cleaned` and `payload` to the
    capture service exactly as the post itself would have.
    """

    class Reason(models.TextChoices):
        HONEYPOT = "honeypot", "Filled the hidden field"
        TOO_FAST = "too_fast", "Sent too fast after the form was shown"
        FORGED_TOKEN = "forged_token", "Form token forged or from another form"
        MISSING_TOKEN = "missing_token", "Sent from the hosted page without its form token"
        STALE_TOKEN = "stale_token", "Form token too old"
        DISPOSABLE_EMAIL = "disposable_email", "Disposable e-mail domain"
        STOP_PHRASE = "stop_phrase", "Contains a stop phrase"

    class Status(models.TextChoices):
        HELD = "held", "Held"
        RELEASED = "released", "Released"
        DISCARDED = "discarded", "Discarded"

    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="quarantined_posts")
    form_version = models.ForeignKey(
        FormVersion, on_delete=models.PROTECT, related_name="quarantined_posts"
    )
    intake = models.CharField(max_length=16, help_text="Which endpoint took it (page, api, ...).")
    payload = models.JSONField(help_text="What the caller sent, as stored for a submission.")
    cleaned = models.JSONField(help_text="The values as the form version validated them.")
    email = models.CharField(max_length=320, blank=True)
    problems = models.JSONField(
        default=list, blank=True, help_text="Field problems the submission will record."
    )
    reasons = models.JSONField(default=list, help_text="Reason codes, in the order checked.")
    details = models.JSONField(default=list, help_text="One sentence per reason, for people.")
    page_url = models.CharField(max_length=2000, blank=True)
    utm = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    # Not one-to-one: a release whose Idempotency-Key was already used answers the submission
    # made with it, as any repeated post does.
    submission = models.ForeignKey(
        "leads.Submission",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="released_from",
        help_text="The submission its release made (or found, for a repeated post).",
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="quarantine_status_recent_idx"),
            models.Index(fields=["form", "status"], name="quarantine_form_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.form}: {self.email or 'no e-mail'} ({', '.join(self.reasons)})"

    @property
    def reason_labels(self) -> list[str]:
        return [self.Reason(code).label for code in self.reasons if code in self.Reason.values]


# The import's tables live in their own module; imported here so Django registers them.
from leads.capture.imports.models import ExternalLeadId, ImportRow, LeadImport  # noqa: E402

__all__ = [
    "ExternalLeadId",
    "Form",
    "FormDailyViews",
    "FormField",
    "FormVersion",
    "HubSpotAccountToken",
    "ImportRow",
    "LeadImport",
    "QuarantinedPost",
]
