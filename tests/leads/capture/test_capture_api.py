"""The JSON intake answers in JSON: stored on 201, every bad field named on 400."""

import pytest
from django.urls import reverse

from leads.models import Lead, Submission
from tests.error_shape import assert_error_json
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def url():
    return reverse("capture:api_submission_create", kwargs={"slug": FormFactory().slug})


def test_valid_json_submission_is_stored_before_201(client, url):
    response = client.post(
        url,
        {"email": "Ana@Acme.example", "company_size": 80, "utm": {"utm_source": "ads"}},
        content_type="application/json",
    )
    assert response.status_code == 201
    submission = Submission.objects.get()
    assert response.json() == {"submission": submission.pk, "lead": submission.lead_id}
    assert submission.lead.email == "ana@acme.example"
    assert submission.utm == {"utm_source": "ads"}
    assert submission.payload["company_size"] == 80


def test_bad_fields_are_named_with_message_and_code(client, url):
    response = client.post(
        url, {"email": "nope", "company_size": "many"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "errors": {
            "email": [{"message": "Enter a valid email address.", "code": "invalid"}],
            "company_size": [{"message": "Enter a whole number.", "code": "invalid"}],
        },
    }
    assert not Lead.objects.exists()


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "*/*"])
def test_the_answer_is_json_whatever_the_caller_accepts(client, url, accept):
    stored = client.post(
        url, {"email": "ana@acme.example"}, content_type="application/json", HTTP_ACCEPT=accept
    )
    assert stored.status_code == 201 and stored["Content-Type"] == "application/json"
    refused = client.post(
        url, {"email": "nope"}, content_type="application/json", HTTP_ACCEPT=accept
    )
    assert refused.status_code == 400 and refused.json()["errors"]["email"]


def test_a_body_that_is_not_json_is_refused_as_such(client, url):
    response = client.post(
        url, "email=ana%40acme.example", content_type="application/x-www-form-urlencoded"
    )
    assert_error_json(response, 415, "unsupported_media_type")
    assert not Submission.objects.exists()


def test_malformed_json_is_refused_in_json(client, url):
    response = client.post(url, "{not json", content_type="application/json")
    errors = assert_error_json(response, 400, "parse_error")
    assert "JSON parse error" in errors["__all__"][0]["message"]
    assert not Submission.objects.exists()


def test_a_json_array_is_refused(client, url):
    response = client.post(url, [1, 2], content_type="application/json")
    errors = assert_error_json(response, 400, "not_an_object")
    assert errors["__all__"][0]["message"] == "Send a JSON object of field values."


def test_unknown_form_is_404(client):
    url = reverse("capture:api_submission_create", kwargs={"slug": "nope"})
    assert client.post(url, {}, content_type="application/json").status_code == 404
