"""The public form a visitor fills in, built from a Form's fields.

A submission's payload is stored whole, beside the form's cleaned values, so the form also
checks what its fields do not: every name and value must be storable text (PostgreSQL refuses
NUL, and jsonb refuses unpaired surrogates and infinite numbers), the form's own fields take
one value each, and the fields it does not ask for are capped in number, size and depth.
"""

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList

from leads.capture.models import Form, FormField
from portal.errors import ALL_FIELDS

# Fields the form does not ask for (page_url, utm tags, a snippet's own) are kept in the
# payload, within these limits.
MAX_EXTRA_FIELDS = 20
MAX_EXTRA_CHARS = 2_000
MAX_DEPTH = 5
MAX_NAME_CHARS = 64

Problem = tuple[str, str]  # (message, code)

NUL = ("Null characters are not allowed.", "null_characters_not_allowed")
SURROGATE = ("Contains an unpaired UTF-16 surrogate, which is not valid text.", "invalid_unicode")
NOT_FINITE = ("Numbers must be finite; this one is out of range.", "not_finite")
TOO_DEEP = (f"Nest values at most {MAX_DEPTH} levels deep.", "too_deep")
NOT_ONE_VALUE = ("Send one value, not a list or an object.", "invalid")
NOT_UTF8 = ("Not valid UTF-8 text.", "invalid_encoding")

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


class SubmissionForm(forms.Form):
    """A form's fields, plus the checks on the whole payload that will be stored.

    `payload` is what will be stored (the JSON object, or the posted fields); it defaults to
    `data`. `undecodable` names posted fields whose bytes were not UTF-8.
    """

    def __init__(
        self,
        data: Mapping | None = None,
        *,
        payload: Mapping[str, Any] | None = None,
        undecodable: Iterable[str] = (),
        **kwargs,
    ):
        super().__init__(data, **kwargs)
        self.payload = data if payload is None else payload
        self.undecodable = list(undecodable)

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        problems = payload_problems(self.payload, known=self.fields)
        for name in self.undecodable:
            problems.setdefault(printable_name(name), []).append(NOT_UTF8)
        for name, found in problems.items():
            # Replaces the field's own errors: "not text" says more than "not an e-mail".
            self._errors[name] = self.error_class(
                [ValidationError(message, code=code) for message, code in found],
                renderer=self.renderer,
            )
            self.cleaned_data.pop(name, None)

    def extra_errors(self) -> list[tuple[str, ErrorList]]:
        """Errors of posted fields the form does not have, for the page to list by name."""
        return [
            (name, errors)
            for name, errors in self.errors.items()
            if name not in self.fields and name != ALL_FIELDS
        ]


def payload_problems(payload: Mapping[str, Any], *, known: Iterable[str]) -> dict[str, list]:
    """What in `payload` cannot be stored as sent, by (printable) field name."""
    known = set(known)
    problems: dict[str, list[Problem]] = {}
    extras = [name for name in payload if name not in known]
    if len(extras) > MAX_EXTRA_FIELDS:
        message = (
            f"Send at most {MAX_EXTRA_FIELDS} fields that the form does not ask for; "
            f"this post has {len(extras):,}."
        )
        problems[ALL_FIELDS] = [(message, "too_many_fields")]
    for name, value in payload.items():
        if name in known:
            problem = _one_value_problem(value)
        elif ALL_FIELDS in problems:
            problem = _name_problem(name)
        else:
            problem = _name_problem(name) or _extra_problem(name, value)
        if problem:
            problems.setdefault(printable_name(name), []).append(problem)
    return problems


def printable_name(name: str) -> str:
    """`name` as an error can show it: NUL and surrogates escaped, and not too long."""
    if name.isascii() and name.isprintable() and len(name) <= MAX_NAME_CHARS:
        return name
    escaped = name.encode("utf-8", "backslashreplace").decode("utf-8")
    escaped = escaped.replace("\x00", "\\u0000")
    return escaped if len(escaped) <= MAX_NAME_CHARS else escaped[:MAX_NAME_CHARS] + "…"


def _name_problem(name: str) -> Problem | None:
    if len(name) > MAX_NAME_CHARS:
        return (f"Field names have at most {MAX_NAME_CHARS} characters.", "max_length")
    return _text_problem(name)


def _one_value_problem(value: Any) -> Problem | None:
    if isinstance(value, dict | list):
        return NOT_ONE_VALUE
    return _scalar_problem(value)


def _extra_problem(name: str, value: Any) -> Problem | None:
    if name == "page_url" and not isinstance(value, str):
        return ("Send the page address as text.", "invalid")
    if name == "utm" and not (
        isinstance(value, dict) and all(isinstance(tag, str) for tag in value.values())
    ):
        return ("Send the UTM tags as an object of utm_* names and text values.", "invalid")
    try:
        size = len(json.dumps(value, ensure_ascii=False))
    except RecursionError:
        return TOO_DEEP
    if size > MAX_EXTRA_CHARS:
        message = (
            f"Ensure this value has at most {MAX_EXTRA_CHARS:,} characters as JSON "
            f"(it has {size:,})."
        )
        return (message, "max_length")
    return _nested_problem(value)


def _nested_problem(value: Any) -> Problem | None:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return TOO_DEEP
            if isinstance(item, dict):
                for name in item:
                    if problem := _text_problem(name):
                        return problem
                item = item.values()
            stack.extend((child, depth + 1) for child in item)
        elif problem := _scalar_problem(item):
            return problem
    return None


def _scalar_problem(value: Any) -> Problem | None:
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, float) and not math.isfinite(value):
        return NOT_FINITE
    return None


def _text_problem(text: str) -> Problem | None:
    if "\x00" in text:
        return NUL
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE
    return None


def submission_form_class(form: Form) -> type[SubmissionForm]:
    """The form class for this version of `form`, built once per process."""
    return _form_class(form.pk, form.slug, form.updated_at)


@lru_cache(maxsize=512)
def _form_class(form_id: int, slug: str, version: datetime) -> type[SubmissionForm]:
    fields: dict[str, forms.Field] = {}
    for spec in FormField.objects.filter(form_id=form_id):
        field = _FIELD_FOR_KIND[spec.kind](spec)
        field.label = spec.label
        field.required = spec.required or spec.key == "email"
        fields[spec.key] = field
    fields["consent"] = forms.BooleanField(
        required=False, label="I agree to be contacted about this request."
    )
    return type(f"{slug.title().replace('-', '')}SubmissionForm", (SubmissionForm,), fields)
