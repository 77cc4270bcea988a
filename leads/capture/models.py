"""Forms a marketer publishes, and the fields each one asks for."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


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
