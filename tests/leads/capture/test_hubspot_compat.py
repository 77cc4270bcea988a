"""The HubSpot Forms API v3 drop-in: HubSpot's request in, HubSpot's answers out, our checks."""

import uuid

import pytest
from django.urls import reverse

from leads.capture.models import FormField
from leads.capture.services import form_publish
from leads.models import Lead, Submission
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

LISTED = "https://www.acme.example"


@pytest.fixture
def form():
    form = FormFactory(thank_you_message="Thanks, we will call you.")
    form.allowed_origins = [LISTED]
    form.save(update_fields=["allowed_origins"])
    return form


def url(form, portal_id="62515"):
    return reverse("capture:hubspot_submit", kwargs={"portal_id": portal_id, "guid": form.guid})


def fields(**values):
    return [{"name": name, "value": value} for name, value in values.items()]


def submit(client, form, body, **headers):
    return client.post(url(form), body, content_type="application/json", **headers)


def assert_hubspot_error(response, status: int) -> list[dict]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "message", "correlationId", "errors"}
    assert body["status"] == "error"
    assert body["message"]
    uuid.UUID(body["correlationId"])
    for error in body["errors"]:
        assert set(error) == {"message", "errorType"}
    return body


def test_a_valid_submission_answers_the_inline_message_and_is_stored_whole(client, form):
    body = {
        "fields": fields(email="Ana@Acme.example", company="Acme", company_size="80"),
        "context": {
            "pageUri": "https://www.acme.example/demo?utm_source=ads&utm_campaign=spring",
            "pageName": "Demo",
            "hutk": "6f453d92607b8108998dc213178ad214",
            "ipAddress": "203.0.113.9",
        },
        "legalConsentOptions": {"consent": {"consentToProcess": True, "text": "I agree"}},
    }
    response = submit(client, form, body)
    assert response.status_code == 200
    assert response.json() == {"inlineMessage": "Thanks, we will call you."}
    submission = Submission.objects.get()
    assert submission.payload == {
        "email": "Ana@Acme.example",
        "company": "Acme",
        "company_size": "80",
        "context": body["context"],
        "legalConsentOptions": body["legalConsentOptions"],
    }
    assert submission.page_url == body["context"]["pageUri"]
    assert submission.utm == {"utm_source": "ads", "utm_campaign": "spring"}
    assert submission.consent is True
    assert submission.lead.email == "ana@acme.example"
    assert submission.lead.attributes["company_size"] == 80
    assert submission.form_version == form.current_version


def test_any_portal_id_is_taken(client, form):
    response = client.post(
        url(form, portal_id="999"),
        {"fields": fields(email="a@acme.example")},
        content_type="application/json",
    )
    assert response.status_code == 200


def test_a_form_with_a_redirect_answers_the_redirect_uri(client, form):
    form.redirect_url = "https://www.acme.example/thanks"
    form.save(update_fields=["redirect_url"])
    response = submit(client, form, {"fields": fields(email="a@acme.example")})
    assert response.status_code == 200
    assert response.json() == {"redirectUri": "https://www.acme.example/thanks"}


def test_a_missing_required_field_is_required_field(client, form):
    response = submit(client, form, {"fields": fields(company="Acme")})
    body = assert_hubspot_error(response, 400)
    assert body["message"] == "The request is not valid"
    assert body["errors"] == [
        {
            "message": "Error in 'fields.email'. This field is required.",
            "errorType": "REQUIRED_FIELD",
        }
    ]
    assert not Lead.objects.exists()


def test_a_bad_email_is_invalid_email(client, form):
    response = submit(client, form, {"fields": fields(email="nope")})
    body = assert_hubspot_error(response, 400)
    assert body["errors"] == [
        {
            "message": "Error in 'fields.email'. Enter a valid email address.",
            "errorType": "INVALID_EMAIL",
        }
    ]


def test_a_field_the_form_does_not_have_is_field_not_in_form_definition(client, form):
    response = submit(client, form, {"fields": fields(email="a@acme.example", favourite="blue")})
    body = assert_hubspot_error(response, 400)
    assert body["errors"] == [
        {
            "message": "Error in 'fields.favourite'. This field is not in the form.",
            "errorType": "FIELD_NOT_IN_FORM_DEFINITION",
        }
    ]
    assert not Submission.objects.exists()


def test_numbers_and_choices_get_their_own_error_types(client, form):
    body = {"fields": fields(email="a@acme.example", company_size="many", country="Mars")}
    errors = assert_hubspot_error(submit(client, form, body), 400)["errors"]
    assert {error["errorType"] for error in errors} == {
        "INVALID_NUMBER",
        "VALUE_NOT_IN_FIELD_DEFINITION",
    }


def test_an_oversized_context_is_invalid_metadata(client, form):
    body = {"fields": fields(email="a@acme.example"), "context": {"pageName": "x" * 3000}}
    errors = assert_hubspot_error(submit(client, form, body), 400)["errors"]
    assert [error["errorType"] for error in errors] == ["INPUT_TOO_LARGE"]
    assert errors[0]["message"].startswith("Error in 'context'. ")


def test_a_nul_in_a_value_is_refused_not_stored(client, form):
    body = {"fields": fields(email="a@acme.example", company="Ac\x00me")}
    errors = assert_hubspot_error(submit(client, form, body), 400)["errors"]
    assert errors == [
        {
            "message": "Error in 'fields.company'. Null characters are not allowed.",
            "errorType": "INVALID_FIELD_VALUE",
        }
    ]


def test_multiple_checkbox_values_are_separated_by_semicolons(client):
    form = FormFactory()
    FormField.objects.create(
        form=form, key="interests", label="Interests", kind="multichoice", choices=["A", "B", "C"]
    )
    form_publish(form=form, by=None)
    form.refresh_from_db()
    response = submit(client, form, {"fields": fields(email="a@acme.example", interests="A;C")})
    assert response.status_code == 200
    assert Submission.objects.get().lead.attributes["interests"] == ["A", "C"]


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"fields": "email=a@acme.example"}, "INVALID_FIELDS"),
        ({"fields": [{"value": "a@acme.example"}]}, "INVALID_FIELDS"),
        ({"email": "a@acme.example", "fields": []}, "INVALID_METADATA"),
        ({"fields": [], "context": "https://www.acme.example/"}, "INVALID_METADATA"),
        ({"fields": [], "legalConsentOptions": [True]}, "INVALID_METADATA"),
        ([1, 2], "NOT_AN_OBJECT"),
    ],
)
def test_a_body_that_is_not_hubspots_shape_is_400(client, form, body, error_type):
    errors = assert_hubspot_error(submit(client, form, body), 400)["errors"]
    assert [error["errorType"] for error in errors] == [error_type]


def test_malformed_json_is_a_parse_error(client, form):
    response = client.post(url(form), "{nope", content_type="application/json")
    errors = assert_hubspot_error(response, 400)["errors"]
    assert errors[0]["errorType"] == "PARSE_ERROR"


def test_a_body_that_is_not_json_is_415(client, form):
    response = client.post(url(form), "email=a", content_type="application/x-www-form-urlencoded")
    errors = assert_hubspot_error(response, 415)["errors"]
    assert errors[0]["errorType"] == "UNSUPPORTED_MEDIA_TYPE"


def test_an_unknown_or_unpublished_form_is_404(client, form):
    response = client.post(
        reverse("capture:hubspot_submit", kwargs={"portal_id": "1", "guid": uuid.uuid4()}),
        {"fields": []},
        content_type="application/json",
    )
    errors = assert_hubspot_error(response, 404)["errors"]
    assert errors[0]["errorType"] == "FORM_NOT_FOUND"
    unpublished = FormFactory(publish=False)
    response = submit(client, unpublished, {"fields": fields(email="a@acme.example")})
    assert_hubspot_error(response, 404)


def test_get_is_405_in_hubspots_shape(client, form):
    errors = assert_hubspot_error(client.get(url(form)), 405)["errors"]
    assert errors[0]["errorType"] == "METHOD_NOT_ALLOWED"


def test_a_repeat_with_the_same_idempotency_key_is_stored_once(client, form):
    body = {"fields": fields(email="a@acme.example")}
    for _ in range(2):
        response = submit(client, form, body, HTTP_IDEMPOTENCY_KEY="k-1")
        assert response.status_code == 200
    assert Submission.objects.count() == 1
    other = {"fields": fields(email="b@acme.example")}
    response = submit(client, form, other, HTTP_IDEMPOTENCY_KEY="k-1")
    errors = assert_hubspot_error(response, 409)["errors"]
    assert errors[0]["errorType"] == "IDEMPOTENCY_KEY_REUSED"


def test_a_listed_site_may_post_from_the_browser(client, form):
    response = submit(client, form, {"fields": fields(email="a@acme.example")}, HTTP_ORIGIN=LISTED)
    assert response["Access-Control-Allow-Origin"] == LISTED
    response = submit(
        client, form, {"fields": fields(email="a@acme.example")}, HTTP_ORIGIN="https://x.example"
    )
    assert "Access-Control-Allow-Origin" not in response


def test_hubspots_object_type_id_beside_a_field_is_accepted(client, form):
    body = {"fields": [{"objectTypeId": "0-1", "name": "email", "value": "a@acme.example"}]}
    assert submit(client, form, body).status_code == 200
    assert Submission.objects.get().payload == {"email": "a@acme.example"}


def test_a_page_uri_that_is_not_a_url_is_kept_without_utm(client, form):
    body = {"fields": fields(email="a@acme.example"), "context": {"pageUri": "http://[oops"}}
    assert submit(client, form, body).status_code == 200
    assert Submission.objects.get().utm == {}
