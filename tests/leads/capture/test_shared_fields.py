"""A version's fields are shared by every form made from it (speed), yet nothing drawn for one
request leaks into the page of the next: errors, classes, choices and initial values."""

import re

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_form
from django import forms as django_forms
from django.urls import reverse

from leads.capture.builder.forms import submission_form_class
from leads.capture.models import FormField
from leads.capture.services import form_publish
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

Kind = FormField.Kind
# One field of every kind, each required, the ones that can show a default with one.
FIELDS = [
    ("email", Kind.EMAIL, {}),
    ("first_name", Kind.TEXT, {"default": "Ana"}),
    ("phone", Kind.PHONE, {}),
    ("budget", Kind.DECIMAL, {}),
    ("company_size", Kind.NUMBER, {"default": "50"}),
    ("plan", Kind.CHOICE, {"choices": ["Basic", "Pro"], "default": "Pro"}),
    ("products", Kind.MULTICHOICE, {"choices": ["CRM", "ERP"], "default": "CRM"}),
    ("country", Kind.COUNTRY, {}),
    ("start", Kind.DATE, {}),
    ("website", Kind.URL, {}),
    ("message", Kind.TEXTAREA, {}),
    ("newsletter", Kind.CHECKBOX, {}),
    ("consent", Kind.CONSENT, {}),
    ("campaign", Kind.HIDDEN, {"default": "q4"}),
]
INVALID_POSTS = [
    {},
    {
        "email": "not-an-address",
        "phone": "12",
        "budget": "lots",
        "company_size": "-1",
        "plan": "Gold",
        "products": ["CRM", "Nope"],
        "country": "Atlantis",
        "start": "yesterday",
        "website": "not a url",
        "message": "x" * 300,
    },
]


@pytest.fixture
def form():
    form = FormFactory(with_fields=False, publish=False)
    for position, (key, kind, extra) in enumerate(FIELDS):
        FormField.objects.create(
            form=form,
            key=key,
            label=key.replace("_", " ").capitalize(),
            kind=kind,
            required=True,
            position=position,
            max_length=255,
            **extra,
        )
    form_publish(form=form, by=None)
    form.refresh_from_db()
    return form


def page(response) -> str:
    """The page without what differs on every drawing: the signed render time."""
    html = response.content.decode()
    return re.sub(r'(name="lb_rendered"[^>]*value=")[^"]*"', r'\1"', html)


@pytest.mark.parametrize("invalid", INVALID_POSTS)
def test_a_page_after_an_invalid_post_is_drawn_exactly_like_the_first(client, form, invalid):
    url = reverse("capture:form", kwargs={"slug": form.slug})
    first = client.get(url)
    assert first.status_code == 200
    assert "is-invalid" not in page(first)
    refused = client.post(url, invalid)
    assert refused.status_code == 400
    assert page(refused).count("is-invalid") >= 5
    again = client.get(url)
    assert "is-invalid" not in page(again)
    assert page(again) == page(first)


def test_drawing_an_invalid_form_changes_nothing_the_class_shares(form):
    form_class = submission_form_class(form.current_version)
    clean = form_class().as_div()
    for data in INVALID_POSTS * 2:
        bound = form_class(data)
        assert not bound.is_valid()
        as_crispy_form(bound)  # as the page draws it, is-invalid and all
        bound.as_div()
    assert form_class().as_div() == clean
    for name, field in form_class.base_fields.items():
        assert "is-invalid" not in field.widget.attrs.get("class", ""), name


def test_validating_a_post_copies_no_field(monkeypatch):
    """The speed the sharing is for: only a form that is drawn gets fields of its own."""
    copies = []
    field_copy = django_forms.Field.__deepcopy__

    def counting(self, memo):
        copies.append(self)
        return field_copy(self, memo)

    monkeypatch.setattr(django_forms.Field, "__deepcopy__", counting)
    form_class = submission_form_class(FormFactory().current_version)
    valid = form_class({"email": "ana@acme.example", "company": "Acme"})
    assert valid.is_valid()
    assert copies == []
    invalid = form_class({})
    assert not invalid.is_valid()
    invalid.as_div()
    assert copies
