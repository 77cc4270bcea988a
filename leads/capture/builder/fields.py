"""One Django form field per kind of form field, built from a frozen spec (FormField.spec).

Each field normalises what it takes: e-mail trimmed, phone numbers to E.164, countries to
their ISO 3166-1 alpha-2 code (a code, a name or a common spelling is accepted, see
portal.countries), dates and decimals to text
that JSON keeps exactly. Placeholder values a marketer lists (e.g. "Select") count as blank.
"""

from collections.abc import Callable
from typing import Any

import phonenumbers
from django import forms
from django.core import validators
from django.utils.html import escape
from django_countries import countries

from leads.capture.models import FormField
from portal.countries import country_code

Kind = FormField.Kind

# The spam defence's hidden fields (intake/spam.py): the builder refuses them as keys
# (builder_forms), so a form can never ask for them.
HONEYPOT_FIELD = "lb_website"
RENDERED_FIELD = "lb_rendered"
SPAM_FIELDS = (HONEYPOT_FIELD, RENDERED_FIELD)


class BlankValues(list):
    """Django's empty values, plus placeholders compared without case or spaces."""

    def __init__(self, placeholders: list[str]):
        super().__init__(validators.EMPTY_VALUES)
        self.placeholders = {str(value).strip().casefold() for value in placeholders}

    def __contains__(self, value: object) -> bool:
        # Asked several times per field and post: a field without placeholders (most) skips
        # the folding.
        if (
            self.placeholders
            and isinstance(value, str)
            and value.strip().casefold() in self.placeholders
        ):
            return True
        return super().__contains__(value)


class PhoneField(forms.CharField):
    def __init__(self, *, region: str = "US", **kwargs):
        self.region = region
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "tel"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        try:
            number = phonenumbers.parse(value, self.region)
        except phonenumbers.NumberParseException as exc:
            raise forms.ValidationError("Enter a phone number.", code="invalid_phone") from exc
        if not phonenumbers.is_valid_number(number):
            raise forms.ValidationError(
                "Enter a valid phone number, with the country code if it is not from "
                f"{countries.name(self.region) or self.region}.",
                code="invalid_phone",
            )
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class CountryField(forms.ChoiceField):
    """The ISO 3166 list, shown by name; takes a code ("BR"), a name ("Brazil") or a common
    spelling ("USA", "Brasil") and keeps the code."""

    def __init__(self, **kwargs):
        choices = [("", "Choose…"), *((country.code, country.name) for country in countries)]
        super().__init__(choices=choices, **kwargs)

    def to_python(self, value: Any) -> str:
        value = super().to_python(value).strip()
        if value in self.empty_values:
            return ""
        return country_code(value) or value  # unknown: refused by validate(), by name


class ListChoiceField(forms.MultipleChoiceField):
    """Multiple choice that also takes one value as text, and drops placeholders."""

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, str):
            value = [value]
        values = super().to_python(value)
        return [value for value in values if value not in self.empty_values]


def _choices(spec: dict) -> list[tuple[str, str]]:
    return [(str(choice), str(choice)) for choice in spec["choices"]]


def _text(spec: dict) -> forms.Field:
    return forms.CharField(max_length=spec["max_length"])


_FIELD_FOR_KIND: dict[str, Callable[[dict], forms.Field]] = {
    Kind.TEXT: _text,
    Kind.EMAIL: lambda s: forms.EmailField(max_length=min(s["max_length"], 254)),
    Kind.PHONE: lambda s: PhoneField(region=s.get("region", "US"), max_length=40),
    Kind.DECIMAL: lambda s: forms.DecimalField(
        max_digits=20, decimal_places=6, widget=forms.NumberInput(attrs={"step": "any"})
    ),
    Kind.NUMBER: lambda s: forms.IntegerField(min_value=0, max_value=10**9),
    Kind.CHOICE: lambda s: forms.ChoiceField(choices=[("", "Choose…"), *_choices(s)]),
    Kind.MULTICHOICE: lambda s: ListChoiceField(
        choices=_choices(s), widget=forms.CheckboxSelectMultiple
    ),
    Kind.COUNTRY: lambda s: CountryField(),
    Kind.DATE: lambda s: forms.DateField(widget=forms.DateInput(attrs={"type": "date"})),
    Kind.URL: lambda s: forms.URLField(
        max_length=min(s["max_length"], 2000), assume_scheme="https"
    ),
    Kind.TEXTAREA: lambda s: forms.CharField(
        max_length=s["max_length"], widget=forms.Textarea(attrs={"rows": 4})
    ),
    Kind.CONSENT: lambda s: forms.BooleanField(
        error_messages={"required": "Please tick this box: we need your consent to reply."}
    ),
    Kind.CHECKBOX: lambda s: forms.BooleanField(),
    Kind.HIDDEN: lambda s: HiddenValueField(default=s["default"], max_length=s["max_length"]),
}


class HiddenValueField(forms.CharField):
    """A value the page carries (a UTM tag, a campaign code): what was sent, or the default."""

    def __init__(self, *, default: str = "", **kwargs):
        self.default = default
        super().__init__(widget=forms.HiddenInput, **kwargs)

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return self.default if value in self.empty_values else value


def form_field(spec: dict[str, Any]) -> forms.Field:
    field = _FIELD_FOR_KIND.get(spec["kind"], _text)(spec)
    field.label = spec["label"]
    # Rendered unescaped by Django's and crispy's templates: the marketer's words are text.
    field.help_text = escape(spec.get("help_text", ""))
    field.required = spec["required"] and spec["kind"] != Kind.HIDDEN
    if spec.get("blank_values"):
        # Only then: Django asks a field's empty values three times per value cleaned, and
        # BlankValues' own `in` costs a Python call each time (a tenth of validating a post).
        field.empty_values = BlankValues(spec["blank_values"])
    if spec.get("default") and spec["kind"] not in (Kind.CONSENT, Kind.CHECKBOX):
        field.initial = [spec["default"]] if spec["kind"] == Kind.MULTICHOICE else spec["default"]
    return field
