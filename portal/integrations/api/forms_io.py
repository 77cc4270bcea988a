"""The portal's own Django forms, reused by the API: their validation is the rule, so a move,
a form's settings or a queue is checked the same way whether a person clicks or a program
posts. This module only translates: JSON in through the form, the form's errors out in the
one error shape, and each form's fields described for the OpenAPI schema.

A translation layer (not a second set of serializers) so that a new form field or a new move
in `leads/inbox/actions.py` is in the API the day it is in the portal.
"""

from functools import cache

from django import forms
from rest_framework import serializers

from portal.errors import InvalidFields


def cleaned_or_refused(form: forms.Form) -> dict:
    """The form's cleaned data; else its errors, each naming its field (400)."""
    if form.is_valid():
        return form.cleaned_data
    raise InvalidFields(form.errors.get_json_data())


def form_data(data) -> dict:
    """A JSON body as a form's data: a list stays a list (a multiple choice), the rest as is."""
    if not isinstance(data, dict):
        raise InvalidFields(
            {"__all__": [{"message": "Send a JSON object.", "code": "parse_error"}]}
        )
    return dict(data)


@cache
def serializer_for(
    form_class: type[forms.Form],
    name: str,
    *,
    partial: bool = False,
    optional: tuple[str, ...] = (),
    **declared: serializers.Field,
) -> type[serializers.Serializer]:
    """A serializer describing `form_class`'s fields for the schema (named `name`).

    `partial`: every field may be left out (a PATCH: what the body does not say stays).
    `optional`: fields the form makes optional when it is made (its `__init__`), which its
    class does not say. `declared`: fields described here instead, or added (what the API
    takes in another shape than the page's inputs, or values the form fills in per object).
    """
    attrs = {}
    for field_name, field in form_class.base_fields.items():
        if field_name in declared:
            continue
        required = field.required and not partial and field_name not in optional
        attrs[field_name] = _described(field, required=required)
    attrs.update(declared)
    return type(name, (serializers.Serializer,), attrs)


def _described(field: forms.Field, *, required: bool) -> serializers.Field:
    common = {"required": required, "help_text": str(field.help_text or field.label or "")}
    if isinstance(field, forms.ModelMultipleChoiceField):
        return serializers.ListField(child=serializers.IntegerField(), **common)
    if isinstance(field, forms.ModelChoiceField):
        return serializers.IntegerField(allow_null=not field.required, **common)
    if isinstance(field, forms.ChoiceField):
        # With their labels: the same set as a model field's is then one enum in the schema.
        choices = [(value, str(label)) for value, label in field.choices if value != ""]
        if not choices:  # filled in per object (a lead's criteria): `declared` says what
            raise TypeError(f"Describe the choices filled in per object: {field.label}")
        return serializers.ChoiceField(choices=choices, allow_blank=not field.required, **common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(required=False, help_text=common["help_text"])
    if isinstance(field, forms.DateField):
        return serializers.DateField(**common)
    if isinstance(field, forms.IntegerField):
        return serializers.IntegerField(
            min_value=field.min_value, max_value=field.max_value, allow_null=True, **common
        )
    if isinstance(field, forms.JSONField):
        return serializers.JSONField(**common)
    if isinstance(field, forms.URLField):
        return serializers.URLField(allow_blank=not field.required, **common)
    return serializers.CharField(
        max_length=getattr(field, "max_length", None), allow_blank=not field.required, **common
    )
