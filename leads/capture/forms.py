"""The public form a visitor fills in, built from a Form's fields."""

from datetime import datetime
from functools import lru_cache

from django import forms

from leads.capture.models import Form, FormField

_FIELD_FOR_KIND = {
    FormField.Kind.EMAIL: lambda f: forms.EmailField(max_length=min(f.max_length, 254)),
    FormField.Kind.TEXT: lambda f: forms.CharField(max_length=f.max_length),
    FormField.Kind.TEXTAREA: lambda f: forms.CharField(
        max_length=f.max_length, widget=forms.Textarea(attrs={"rows": 4})
    ),
    FormField.Kind.NUMBER: lambda f: forms.IntegerField(min_value=0, max_value=10**9),
    FormField.Kind.CHOICE: lambda f: forms.ChoiceField(
        choices=[("", "Choose…"), *((c, c) for c in f.choices)]
    ),
    FormField.Kind.CHECKBOX: lambda f: forms.BooleanField(),
}


def submission_form_class(form: Form) -> type[forms.Form]:
    """The form class for this version of `form`, built once per process."""
    return _form_class(form.pk, form.slug, form.updated_at)


@lru_cache(maxsize=512)
def _form_class(form_id: int, slug: str, version: datetime) -> type[forms.Form]:
    fields: dict[str, forms.Field] = {}
    for spec in FormField.objects.filter(form_id=form_id):
        field = _FIELD_FOR_KIND[spec.kind](spec)
        field.label = spec.label
        field.required = spec.required or spec.key == "email"
        fields[spec.key] = field
    fields["consent"] = forms.BooleanField(
        required=False, label="I agree to be contacted about this request."
    )
    return type(f"{slug.title().replace('-', '')}SubmissionForm", (forms.Form,), fields)
