"""The builder's own forms: a form's settings and one field of its draft."""

from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django_countries import countries

from leads.capture.aliases import aliases_as_text, aliases_from_text
from leads.capture.builder.fields import SPAM_FIELDS
from leads.capture.models import Form, FormField
from leads.capture.services import FORM_SETTINGS

Kind = FormField.Kind
WITH_CHOICES = {Kind.CHOICE, Kind.MULTICHOICE}


class HttpsURLField(forms.URLField):
    def __init__(self, **kwargs):
        super().__init__(assume_scheme="https", **kwargs)


class FormSettingsForm(forms.ModelForm):
    phone_region = forms.ChoiceField(
        choices=list(countries),
        initial="US",
        help_text=Form._meta.get_field("phone_region").help_text,
    )

    class Meta:
        model = Form
        fields = list(FORM_SETTINGS)  # what form_settings_update may change, and no more
        labels = {
            "logo_url": "Logo URL",
            "accent_color": "Accent colour",
            "slug": "Address (slug)",
            "intro": "Introduction",
            "redirect_url": "Redirect URL",
            "allowed_origins": "Sites that may embed it",
            "hubspot_portal_id": "HubSpot portal id",
            "hubspot_form_guid": "HubSpot form GUID",
            "salesforce_org_id": "Salesforce org id",
        }
        help_texts = {"slug": "Letters, digits and hyphens: the public page is /f/this-address/."}
        widgets = {
            "campaign_brief": forms.Textarea(attrs={"rows": 3}),
            "intro": forms.Textarea(attrs={"rows": 2}),
            "thank_you_message": forms.Textarea(attrs={"rows": 2}),
            "consent_text": forms.Textarea(attrs={"rows": 2}),
            "accent_color": forms.TextInput(attrs={"placeholder": "#0d6efd"}),
        }
        field_classes = {"redirect_url": HttpsURLField, "logo_url": HttpsURLField}

    def clean_logo_url(self) -> str:
        url = self.cleaned_data["logo_url"]
        if url and urlsplit(url).scheme != "https":
            raise forms.ValidationError(
                "Use an https address: the form's pages would not show a logo over http.",
                code="https_only",
            )
        return url

    def clean_redirect_url(self) -> str:
        url = self.cleaned_data["redirect_url"]
        if url and not settings.DEBUG and urlsplit(url).scheme != "https":
            raise forms.ValidationError(
                "Use an https address: visitors would be sent on over an unencrypted "
                "connection after posting.",
                code="https_only",
            )
        return url

    def clean_accent_color(self) -> str:
        return self.cleaned_data["accent_color"].lower()

    def clean_salesforce_org_id(self) -> str:
        # The first 15 characters name the org; the 18-character form only adds a checksum.
        return self.cleaned_data["salesforce_org_id"].strip()[:15]

    def clean_hubspot_form_guid(self):
        guid = self.cleaned_data["hubspot_form_guid"]
        taken = Form.objects.filter(guid=guid).exclude(pk=self.instance.pk).exists()
        if guid and taken:
            raise forms.ValidationError(
                "This is another form's LeadBridge id.", code="unique", params={}
            )
        return guid

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allowed_origins"] = OriginsField(
            required=False,
            label="Sites that may embed it",
            help_text=(
                "One a line, as scheme://host[:port], e.g. https://www.example.com: only these "
                "may show the form in an iframe or post it from their pages."
            ),
        )
        self.fields["field_aliases"] = AliasesField(
            required=False,
            label="Field aliases",
            help_text=(
                "One a line, as posted name = form key, e.g. firstname = first_name: a HubSpot "
                "or Salesforce site posting that name fills that field. A name the form has "
                "is never renamed. first_name, last_name and company fill the lead's name "
                "and company even when the form does not ask for them."
            ),
        )
        self.initial["field_aliases"] = aliases_as_text(self.instance.aliases)
        self.fields["stop_phrases"] = LinesField(
            required=False,
            label="Stop phrases",
            help_text=(
                'One a line, e.g. "SEO services" or "crypto": a post whose text contains '
                "one (any case) is held in the spam quarantine for you to review."
            ),
        )


class LinesField(forms.CharField):
    """A list of values, one a line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        lines = (line.strip() for line in (super().to_python(value) or "").splitlines())
        return list(dict.fromkeys(line for line in lines if line))


class AliasesField(forms.CharField):
    """The form's aliases, one a line as `posted name = form key`."""

    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false"})

    def prepare_value(self, value):
        return aliases_as_text(value) if isinstance(value, dict) else value

    def to_python(self, value) -> dict[str, str]:
        if isinstance(value, dict):  # as the API (JSON) and the model hold them
            value = aliases_as_text(value)
        aliases, problems = aliases_from_text(super().to_python(value) or "")
        if problems:
            raise forms.ValidationError(problems, code="invalid_alias")
        return aliases


class OriginsField(LinesField):
    """Web origins, one a line: scheme://host[:port], nothing after it (a browser's Origin)."""

    def to_python(self, value) -> list[str]:
        origins = [_origin(line) for line in super().to_python(value)]
        return list(dict.fromkeys(origins))


def _origin(line: str) -> str:
    refusal = forms.ValidationError(
        "%(line)s is not a site's address: write scheme://host[:port], "
        "e.g. https://www.example.com, with nothing after it.",
        code="invalid_origin",
        params={"line": line},
    )
    try:
        parts = urlsplit(line)
        port = parts.port
    except ValueError as exc:
        raise refusal from exc
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "*" in parts.netloc
    ):
        raise refusal
    scheme = parts.scheme.lower()
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    # Browsers leave the scheme's own port out of the Origin they send.
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


class FieldForm(forms.ModelForm):
    choices = LinesField(required=False, help_text="For single and multiple choice: one a line.")
    blank_values = LinesField(
        required=False,
        label="Values that count as blank",
        help_text='One a line, e.g. "Select" or "N/A": treated as if the field were left empty.',
    )

    class Meta:
        model = FormField
        fields = ["label", "key", "kind", "help_text", "required", "choices", "default"]
        labels = {"key": "Key (lead attribute)", "default": "Default value"}

    def __init__(self, *args, form: Form, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = form
        self.fields["blank_values"].initial = self.instance.blank_values
        self.order_fields(["label", "key", "kind", "help_text", "required", "choices"])

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if key in SPAM_FIELDS:
            raise forms.ValidationError(
                "This key is kept for the spam defence; choose another.", code="reserved"
            )
        taken = self.owner.fields.filter(key=key).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("Another field of this form has this key.", code="unique")
        return key

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in WITH_CHOICES and not data.get("choices"):
            self.add_error("choices", "List the choices, one a line.")
        if data.get("key") == "email" and kind and kind != Kind.EMAIL:
            self.add_error("kind", "The field with the key email must be an e-mail field.")
        return data

    def settings(self) -> dict:
        return {**self.cleaned_data, "blank_values": self.cleaned_data["blank_values"]}
