"""The public form a visitor fills in, built from a Form's fields.

A submission's payload is stored whole, beside the form's cleaned values, so the form also
checks what its fields do not: every name and value must be storable text (PostgreSQL refuses
NUL, and jsonb refuses unpaired surrogates and infinite numbers), the form's own fields take
one value each, and the fields it does not ask for are capped in number, size and depth.
"""

import copy
import json
import math
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorList
from django.utils.translation import gettext_lazy

from leads.capture.builder.fields import form_field
from leads.capture.models import FormField, FormVersion
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
# Django translates ":" for every form it makes; lazily, it is translated only when a label
# is drawn (a post that is stored draws none). gettext was a fortieth of a post's CPU (py-spy).
LABEL_SUFFIX = gettext_lazy(":")


class SharedFields(dict):
    """A version's fields, shared by every form made from its class.

    Django deep-copies a form class's fields for each instance, so that one instance may
    change its own; the copy was a sixth of a JSON post's CPU (cProfile: 16,000 field copies
    per 2,000 posts). Validating changes no field, so a form validates with these, and copies
    them only when something else asks for `form.fields`: drawing a field changes it (crispy
    adds `is-invalid` to the widget's classes, a layout may add attributes), and a shared one
    would show those to every later visitor.
    """

    def __deepcopy__(self, memo) -> "SharedFields":
        return self  # SubmissionForm.fields copies them when they are first asked for


class SubmissionForm(forms.Form):
    """A form's fields, plus the checks on the whole payload that will be stored.

    `payload` is what will be stored (the JSON object, or the posted fields); it defaults to
    `data`. `undecodable` names posted fields whose bytes were not UTF-8; `uncounted`, fields
    the form does not ask for that are kept beyond MAX_EXTRA_FIELDS (still checked each).
    """

    def __init__(
        self,
        data: Mapping | None = None,
        *,
        payload: Mapping[str, Any] | None = None,
        undecodable: Iterable[str] = (),
        uncounted: Iterable[str] = (),
        **kwargs,
    ):
        kwargs.setdefault("label_suffix", LABEL_SUFFIX)
        self._own_fields: dict[str, forms.Field] | None = None
        super().__init__(data, **kwargs)
        self.payload = data if payload is None else payload
        self.undecodable = list(undecodable)
        self.uncounted = set(uncounted)

    @property
    def fields(self) -> dict[str, forms.Field]:
        """This form's own copy of its fields, made when first asked for (see SharedFields):
        anything may change these, widgets, attributes, choices and initial values."""
        if self._own_fields is None:
            self._own_fields = copy.deepcopy(dict(self.base_fields))
        return self._own_fields

    @fields.setter
    def fields(self, fields: dict[str, forms.Field]) -> None:
        # BaseForm.__init__ sets deepcopy(base_fields): the shared ones, copied when asked for.
        self._own_fields = None if fields is self.base_fields else fields

    @property
    def shared_fields(self) -> dict[str, forms.Field]:
        """The fields to validate with: the class's own, never changed (see SharedFields)."""
        return self.base_fields if self._own_fields is None else self._own_fields

    def clean(self) -> dict[str, Any]:
        # Stored as JSON on the lead: exact decimals as text, dates as ISO 8601.
        for name, value in self.cleaned_data.items():
            if isinstance(value, Decimal):
                self.cleaned_data[name] = format(value.normalize(), "f")
            elif isinstance(value, date):
                self.cleaned_data[name] = value.isoformat()
        return self.cleaned_data

    def _clean_fields(self) -> None:
        """Django's, without a BoundField per field: none of ours is disabled or a file, the
        form has no prefix and no clean_<name> methods, so each field cleans what its widget
        reads from the data. Making the BoundFields was a fifth of validating (py-spy); the
        page still makes them when it draws the form."""
        for name, field in self.shared_fields.items():
            try:
                value = field.widget.value_from_datadict(self.data, self.files, name)
                self.cleaned_data[name] = field.clean(value)
            except ValidationError as error:
                self.add_error(name, error)

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound:
            return
        fields = self.shared_fields
        multiple = {
            name for name, field in fields.items() if isinstance(field, forms.MultipleChoiceField)
        }
        problems = payload_problems(
            self.payload, known=fields, multiple=multiple, uncounted=self.uncounted
        )
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


def field_problem(field: str, code: str, message: str, raw: Any) -> dict[str, Any]:
    """One problem of a stored post's field, as the submission records it."""
    return {"field": field, "code": code, "message": str(message), "raw": raw}


def kept_with_problems(
    bound: SubmissionForm,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """What to store of a post its client's own service would take though the form refuses
    some of it (Web-to-Lead, house rule 11): the payload as sent, the cleaned values of the
    fields that passed and the raw text of those that did not, and one problem per refusal.

    Only NUL, which PostgreSQL cannot store, is changed (to U+FFFD); its problem says so.
    """
    bound.is_valid()
    payload = {_storable(name): _storable(value) for name, value in bound.payload.items()}
    cleaned = dict(bound.cleaned_data)
    problems = []
    for name, errors in bound.errors.get_json_data().items():
        raw = payload.get(name, "") if name != ALL_FIELDS else ""
        for error in errors:
            problems.append(field_problem(name, error["code"], error["message"], _shown(raw)))
        if name in bound.fields and raw not in ("", []) and not isinstance(raw, dict):
            cleaned[name] = raw
    return payload, cleaned, problems


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def _shown(raw: Any) -> Any:
    return raw if isinstance(raw, str | list) else json.dumps(raw, ensure_ascii=False)


def payload_problems(
    payload: Mapping[str, Any],
    *,
    known: Iterable[str],
    multiple: Iterable[str] = (),
    uncounted: Iterable[str] = (),
) -> dict[str, list]:
    """What in `payload` cannot be stored as sent, by (printable) field name.

    The form's own fields take one value each; those in `multiple` a list of values.
    """
    known = set(known)
    multiple = set(multiple)
    problems: dict[str, list[Problem]] = {}
    uncounted = set(uncounted)
    extras = [name for name in payload if name not in known and name not in uncounted]
    if len(extras) > MAX_EXTRA_FIELDS:
        message = (
            f"Send at most {MAX_EXTRA_FIELDS} fields that the form does not ask for; "
            f"this post has {len(extras):,}."
        )
        problems[ALL_FIELDS] = [(message, "too_many_fields")]
    for name, value in payload.items():
        if name in multiple and isinstance(value, list):
            problem = next(filter(None, map(_one_value_problem, value)), None)
        elif name in known:
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


# Versions never change, so a version's form class is built once per process. The key has
# the publishing time too: an id alone came back for another version once a migration test
# had recreated the table, and the cached class then judged posts by the wrong fields.
_classes: dict[tuple[int, object], type[SubmissionForm]] = {}
MAX_CACHED_CLASSES = 512


def submission_form_class(version: FormVersion) -> type[SubmissionForm]:
    """The form class for a published version of a form."""
    key = (version.pk, version.published_at)
    cls = _classes.get(key)
    if cls is None:
        if len(_classes) >= MAX_CACHED_CLASSES:
            _classes.pop(next(iter(_classes)))
        cls = _classes[key] = build_form_class(
            version.fields, consent_text=version.consent_text, name=str(version.form_id)
        )
    return cls


def build_form_class(
    specs: list[dict[str, Any]], *, consent_text: str = "", name: str = ""
) -> type[SubmissionForm]:
    """A form class from field specs (a version's, or a draft's for the preview)."""
    fields: dict[str, forms.Field] = {}
    for spec in specs:
        if spec["kind"] == FormField.Kind.CONSENT and consent_text:
            spec = {**spec, "label": consent_text}
        fields[spec["key"]] = form_field(spec)
    if not any(spec["kind"] == FormField.Kind.CONSENT for spec in specs):
        # A form without its own consent field still lets the visitor say yes.
        fields["consent"] = forms.BooleanField(
            required=False, label=consent_text or "I agree to be contacted about this request."
        )
    cls = type(f"Form{name}SubmissionForm", (SubmissionForm,), fields)
    cls.base_fields = SharedFields(cls.base_fields)
    return cls
