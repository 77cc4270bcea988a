"""Each kind of field validates and normalises what it takes; placeholders count as blank."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from leads.capture.builder.forms import build_form_class
from leads.capture.models import FormField
from leads.capture.services import form_publish
from leads.models import Lead, Submission
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db


def spec(key: str, kind: str, **overrides) -> dict:
    return {
        "key": key,
        "label": key.replace("_", " ").capitalize(),
        "kind": kind,
        "help_text": "",
        "required": False,
        "max_length": 255,
        "choices": [],
        "default": "",
        "blank_values": [],
        **overrides,
    }


def clean(*specs: dict, **data):
    bound = build_form_class([spec("email", "email", required=True), *specs])(
        {"email": "ana@acme.example", **data}
    )
    bound.is_valid()
    return bound


@pytest.mark.parametrize(
    ("written", "e164"),
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("+1 415 555 2671", "+14155552671"),
        ("011 98765 4321", "+5511987654321"),
    ],
)
def test_phone_numbers_are_normalised_to_e164_from_the_forms_region(written, e164):
    bound = clean(spec("phone", "phone", region="BR"), phone=written)
    assert bound.cleaned_data["phone"] == e164


def test_an_impossible_phone_number_is_refused():
    bound = clean(spec("phone", "phone", region="BR"), phone="12")
    assert bound.errors["phone"][0].startswith("Enter a valid phone number")
    assert clean(spec("phone", "phone"), phone="call me").errors.as_data()["phone"][0].code == (
        "invalid_phone"
    )


@pytest.mark.parametrize(("written", "kept"), [("1234.50", "1234.5"), ("0.1", "0.1"), (7, "7")])
def test_decimals_are_kept_exactly_as_text(written, kept):
    assert clean(spec("budget", "decimal"), budget=written).cleaned_data["budget"] == kept


def test_a_decimal_that_is_not_a_number_is_refused():
    assert "budget" in clean(spec("budget", "decimal"), budget="lots").errors


def test_whole_numbers_refuse_fractions():
    assert "seats" in clean(spec("seats", "number"), seats="2.5").errors
    assert clean(spec("seats", "number"), seats="12").cleaned_data["seats"] == 12


@pytest.mark.parametrize("written", ["BR", "br", "Brazil", " brazil ", "Brasil", "BRA"])
def test_a_country_is_taken_by_code_name_or_common_spelling_and_kept_by_its_code(written):
    assert clean(spec("country", "country"), country=written).cleaned_data["country"] == "BR"


@pytest.mark.parametrize(
    "written", ["United States of America", "United States", "USA", "U.S.A.", "us"]
)
def test_the_united_states_is_us_however_it_is_written(written):
    assert clean(spec("country", "country"), country=written).cleaned_data["country"] == "US"


def test_an_unknown_country_is_refused():
    assert "country" in clean(spec("country", "country"), country="Atlantis").errors


def test_dates_are_kept_as_iso_and_bad_dates_refused():
    assert clean(spec("day", "date"), day="2026-12-01").cleaned_data["day"] == "2026-12-01"
    assert "day" in clean(spec("day", "date"), day="2026-02-30").errors


def test_multiple_choice_keeps_a_list_and_refuses_an_unknown_choice():
    interest = spec("interest", "multichoice", choices=["Pricing", "Demo", "Support"])
    form_class = build_form_class([spec("email", "email", required=True), interest])
    posted = QueryDict("email=a%40acme.example&interest=Pricing&interest=Demo")
    bound = form_class(posted)
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["interest"] == ["Pricing", "Demo"]
    assert "interest" in clean(interest, interest=["Lunch"]).errors
    assert clean(interest, interest="Demo").cleaned_data["interest"] == ["Demo"]


def test_url_and_long_text():
    assert "site" in clean(spec("site", "url"), site="not a url").errors
    assert clean(spec("site", "url"), site="acme.example").cleaned_data["site"] == (
        "https://acme.example"
    )
    long = spec("notes", "textarea", max_length=10)
    assert "notes" in clean(long, notes="x" * 11).errors


def test_placeholder_values_count_as_blank():
    size = spec("company_size", "number", required=True, blank_values=["Select", "N/A"])
    country = spec("country", "choice", choices=["Brazil"], blank_values=["Select"])
    bound = clean(size, country, company_size="select", country="Select")
    assert bound.errors["company_size"] == ["This field is required."]
    assert "country" not in bound.errors
    optional = spec("job_title", "text", blank_values=["N/A"])
    assert clean(optional, job_title=" n/a ").cleaned_data["job_title"] == ""


def test_a_hidden_field_sends_its_default_unless_the_page_sends_a_value():
    campaign = spec("campaign_code", "hidden", default="SPRING-26")
    assert clean(campaign).cleaned_data["campaign_code"] == "SPRING-26"
    assert clean(campaign, campaign_code="PARTNER").cleaned_data["campaign_code"] == "PARTNER"


def test_a_json_list_for_a_multiple_choice_field_is_stored_whole(client):
    form = FormFactory(publish=False)
    FormField.objects.create(
        form=form, key="interest", label="Interest", kind="multichoice", choices=["A", "B"]
    )
    FormField.objects.create(form=form, key="budget", label="Budget", kind="decimal")
    form_publish(form=form, by=None)
    response = client.post(
        reverse("capture:api_submission_create", args=[form.slug]),
        {"email": "ana@acme.example", "interest": ["A", "B"], "budget": "12.50"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert Submission.objects.get().payload["interest"] == ["A", "B"]
    assert Lead.objects.get().attributes["interest"] == ["A", "B"]
    assert Lead.objects.get().attributes["budget"] == "12.5"


def test_a_nested_list_in_a_multiple_choice_field_is_still_refused(client):
    form = FormFactory(publish=False)
    FormField.objects.create(
        form=form, key="interest", label="Interest", kind="multichoice", choices=["A"]
    )
    form_publish(form=form, by=None)
    response = client.post(
        reverse("capture:api_submission_create", args=[form.slug]),
        {"email": "ana@acme.example", "interest": [["A"]]},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["interest"][0]["code"] == "invalid"


def test_help_text_is_shown_as_text_not_html(client):
    form = FormFactory(publish=False)
    FormField.objects.create(
        form=form, key="notes", label="Notes", help_text="<script>alert(1)</script>"
    )
    form_publish(form=form, by=None)
    page = client.get(reverse("capture:form", args=[form.slug])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
