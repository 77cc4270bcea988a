"""HubSpot's authenticated endpoint (.../integration/secure/submit/...): the same request and
answers as the open one, behind the form's bearer token, which is kept only as a hash."""

import hashlib
import time
import uuid

import pytest
from django.urls import reverse

from leads.capture.builder.tokens import hubspot_token_issue
from leads.capture.models import Form
from leads.models import Lead, Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

BODY = {"fields": [{"name": "email", "value": "ana@acme.example"}]}


@pytest.fixture
def form():
    return FormFactory(thank_you_message="Thanks!")


def url(form, guid=None):
    return reverse(
        "capture:hubspot_secure_submit", kwargs={"portal_id": "62515", "guid": guid or form.guid}
    )


def submit(client, form, token=None, body=BODY, guid=None, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post(url(form, guid), body, content_type="application/json", **headers)


def assert_unauthorized(response):
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"status", "message", "correlationId", "category", "errors"}
    assert (body["status"], body["category"]) == ("error", "INVALID_AUTHENTICATION")
    uuid.UUID(body["correlationId"])
    assert body["errors"] == [{"message": body["message"], "errorType": "UNAUTHORIZED"}]
    assert not Submission.objects.exists()


def test_with_the_forms_token_a_post_is_stored_and_answered_like_hubspot(client, form):
    token = hubspot_token_issue(form=form)
    response = submit(client, form, token)
    assert response.status_code == 200, response.content
    assert response.json() == {"inlineMessage": "Thanks!"}
    assert Lead.objects.get().email == "ana@acme.example"


def test_without_a_token_nothing_is_read(client, form):
    hubspot_token_issue(form=form)
    response = submit(client, form)
    assert_unauthorized(response)
    assert "not found" in response.json()["message"]


@pytest.mark.parametrize("sent", ["wrong", "", "Basic abc"])
def test_a_wrong_token_is_refused(client, form, sent):
    hubspot_token_issue(form=form)
    assert_unauthorized(submit(client, form, sent))


def test_another_forms_token_does_not_open_this_form(client, form):
    other = FormFactory()
    assert_unauthorized(submit(client, form, hubspot_token_issue(form=other)))


def test_a_form_without_a_token_refuses_every_post(client, form):
    assert_unauthorized(submit(client, form, ""))
    assert_unauthorized(submit(client, form, "anything"))


def test_an_unknown_form_is_also_401_so_guids_cannot_be_probed(client, form):
    assert_unauthorized(submit(client, form, "x", guid=uuid.uuid4()))


def test_the_token_is_stored_hashed_and_a_new_one_ends_the_old(client, form):
    first = hubspot_token_issue(form=form)
    form.refresh_from_db()
    assert form.hubspot_token_hash == hashlib.sha256(first.encode()).hexdigest()
    assert first not in str(Form.objects.filter(pk=form.pk).values().get())
    second = hubspot_token_issue(form=form)
    assert_unauthorized(submit(client, form, first))
    assert submit(client, form, second).status_code == 200


def test_field_errors_keep_hubspots_shape_behind_the_token(client, form):
    token = hubspot_token_issue(form=form)
    body = {"fields": [{"name": "email", "value": "not-an-address"}]}
    response = submit(client, form, token, body=body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "INVALID_EMAIL"


def test_the_secure_endpoint_opens_no_cors(client, form):
    form.allowed_origins = ["https://www.acme.example"]
    form.save(update_fields=["allowed_origins"])
    token = hubspot_token_issue(form=form)
    response = submit(client, form, token, HTTP_ORIGIN="https://www.acme.example")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_a_marketer_makes_a_token_and_sees_it_once(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    page = reverse("capture:hubspot_token", args=[form.pk])
    ask = client.get(page)
    assert "Make the HubSpot token of" in ask.content.decode()
    shown = client.post(page)
    assert shown["Cache-Control"] == "no-store"
    token = shown.context["token"]
    assert f'value="{token}"' in shown.content.decode()
    assert submit(client, form, token).status_code == 200
    builder = client.get(reverse("capture:builder", args=[form.pk])).content.decode()
    assert token not in builder
    assert "A token is set" in builder
    assert "Replace the HubSpot token of" in client.get(page).content.decode()


def test_properties_not_on_the_form_are_kept_and_recorded_behind_the_token(client, form):
    # HubSpot's authenticated endpoint takes any contact property, on the form or not.
    token = hubspot_token_issue(form=form)
    extra = [{"name": f"hs_custom_{i}", "value": f"v{i}"} for i in range(25)]
    body = {
        "fields": [
            {"name": "email", "value": "ana@acme.example"},
            {"name": "lifecyclestage", "value": "lead"},
            *extra,
        ]
    }
    response = submit(client, form, token, body=body)
    assert response.status_code == 200, response.content
    submission = Submission.objects.get()
    assert submission.payload["lifecyclestage"] == "lead"
    assert submission.payload["hs_custom_24"] == "v24"
    recorded = {problem["field"]: problem for problem in submission.problems}
    assert set(recorded) == {"lifecyclestage", *(item["name"] for item in extra)}
    assert recorded["lifecyclestage"]["code"] == "unknown_property"
    assert recorded["lifecyclestage"]["raw"] == "lead"
    assert submission.lead.email == "ana@acme.example"


def test_the_public_endpoint_still_refuses_properties_not_on_the_form(client, form):
    # As HubSpot's own unauthenticated endpoint does for forms made since 2022.
    body = {"fields": [{"name": "email", "value": "a@acme.example"}, {"name": "x", "value": "1"}]}
    url = reverse("capture:hubspot_submit", kwargs={"portal_id": "1", "guid": form.guid})
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["errorType"] == "FIELD_NOT_IN_FORM_DEFINITION"


def test_a_token_replaced_in_another_process_stops_within_the_remembered_time(
    client, form, settings
):
    # The secure endpoint checks the hash the remembered published form carries; another
    # process replacing the token (here: the row changed without this process hearing of it)
    # is seen once the memory runs out, as an unpublish is.
    settings.LEADBRIDGE_PUBLISHED_FORM_SECONDS = 0.2
    old = hubspot_token_issue(form=form)
    assert submit(client, form, old).status_code == 200
    Form.objects.filter(pk=form.pk).update(hubspot_token_hash=hashlib.sha256(b"new").hexdigest())
    time.sleep(0.3)
    body = {"fields": [{"name": "email", "value": "bruno@acme.example"}]}
    assert_unauthorized_after_one(submit(client, form, old, body=body))
    assert submit(client, form, "new", body=body).status_code == 200


def assert_unauthorized_after_one(response):
    assert response.status_code == 401
    assert Submission.objects.count() == 1
