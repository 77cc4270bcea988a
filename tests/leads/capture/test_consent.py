"""A form with a required consent field refuses a post without consent, naming the field."""

import pytest
from django.urls import reverse

from leads.capture.models import FormField
from leads.capture.services import form_publish, form_update
from leads.models import Lead, Submission
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

CONSENT_TEXT = "I agree that Acme contacts me about this request."


@pytest.fixture
def form():
    form = FormFactory(publish=False)
    form_update(form=form, consent_text=CONSENT_TEXT)
    FormField.objects.create(
        form=form, key="consent", label="Consent", kind="consent", required=True, position=9
    )
    form_publish(form=form, by=None)
    return form


def test_the_consent_checkbox_shows_the_forms_consent_text(client, form):
    assert CONSENT_TEXT.encode() in client.get(reverse("capture:form", args=[form.slug])).content


def test_a_post_without_consent_is_refused_and_nothing_is_stored(client, form):
    response = client.post(reverse("capture:form", args=[form.slug]), {"email": "a@acme.example"})
    assert response.status_code == 400
    assert response.context["bound"].errors["consent"] == [
        "Please tick this box: we need your consent to reply."
    ]
    assert not Lead.objects.exists()


def test_the_json_api_refuses_it_too(client, form):
    response = client.post(
        reverse("capture:api_submission_create", args=[form.slug]),
        {"email": "a@acme.example", "consent": False},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["consent"][0]["code"] == "required"


def test_a_post_with_consent_is_stored_with_consent(client, form):
    client.post(
        reverse("capture:form", args=[form.slug]), {"email": "a@acme.example", "consent": "on"}
    )
    assert Submission.objects.get().consent is True


def test_an_optional_consent_field_records_either_answer(client):
    form = FormFactory(publish=False)
    FormField.objects.create(form=form, key="marketing_ok", label="News", kind="consent")
    form_publish(form=form, by=None)
    client.post(reverse("capture:form", args=[form.slug]), {"email": "a@acme.example"})
    client.post(
        reverse("capture:form", args=[form.slug]),
        {"email": "b@acme.example", "marketing_ok": "on"},
    )
    assert list(Submission.objects.order_by("pk").values_list("consent", flat=True)) == [
        False,
        True,
    ]


def test_after_sending_the_visitor_goes_to_the_redirect_url_when_there_is_one(client, form):
    form_update(form=form, redirect_url="https://acme.example/thanks")
    response = client.post(
        reverse("capture:form", args=[form.slug]), {"email": "a@acme.example", "consent": "on"}
    )
    assert response["Location"] == "https://acme.example/thanks"
