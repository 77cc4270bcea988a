"""Idempotency-Key: the whole key names one submission, and one body."""

import pytest
from django.urls import reverse

from leads.models import Submission
from tests.error_shape import assert_error_json
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

ANA = {"email": "ana@acme.example", "company": "Acme"}
BO = {"email": "bo@beta.example", "company": "Beta"}


@pytest.fixture
def form():
    return FormFactory()


@pytest.fixture
def api_post(client, form):
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})

    def post(data, key):
        return client.post(
            url, data, content_type="application/json", headers={"Idempotency-Key": key}
        )

    return post


@pytest.fixture
def page_post(client, form):
    url = reverse("capture:form", kwargs={"slug": form.slug})

    def post(data, key):
        return client.post(url, data, headers={"Idempotency-Key": key})

    return post


def test_repeated_key_and_body_answer_the_first_submission_again(api_post):
    first = api_post(ANA, "retry-1")
    again = api_post(ANA, "retry-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Submission.objects.count() == 1


def test_keys_differing_only_in_their_last_character_are_two_submissions(api_post):
    first = api_post(ANA, "k" * 199 + "a")
    second = api_post(BO, "k" * 199 + "b")
    assert (first.status_code, second.status_code) == (201, 201)
    assert Submission.objects.count() == 2


def test_keys_over_the_limit_are_refused_not_cut_to_one_key(api_post):
    # Both once became "k" * 200: Bo's lead was answered with Ana's submission and lost.
    for data, key in ((ANA, "k" * 200 + "a"), (BO, "k" * 200 + "b")):
        errors = assert_error_json(api_post(data, key), 400, "max_length")
        assert "200" in errors["Idempotency-Key"][0]["message"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize("key", ["caf\xe9", "tab\there", "nul\x00"], ids=["latin-1", "tab", "nul"])
def test_keys_with_other_than_printable_ascii_are_refused(api_post, key):
    errors = assert_error_json(api_post(ANA, key), 400, "invalid")
    assert list(errors) == ["Idempotency-Key"]
    assert not Submission.objects.exists()


def test_reused_key_with_another_body_is_refused_with_409(api_post):
    first = api_post(ANA, "retry-1")
    errors = assert_error_json(api_post(BO, "retry-1"), 409, "idempotency_key_reused")
    assert list(errors) == ["Idempotency-Key"]
    assert first.status_code == 201
    assert Submission.objects.get().payload == ANA


def test_hosted_form_refuses_a_reused_key_with_another_body_on_the_form_page(page_post):
    assert page_post(ANA, "retry-1").status_code == 302
    response = page_post(BO, "retry-1")
    assert response.status_code == 409
    assert b'id="form-errors"' in response.content
    assert b"Idempotency-Key" in response.content
    assert Submission.objects.count() == 1


def test_hosted_form_refuses_a_key_over_the_limit_on_the_form_page(page_post):
    response = page_post(ANA, "k" * 201)
    assert response.status_code == 400
    assert b"Idempotency-Key" in response.content
    assert not Submission.objects.exists()
