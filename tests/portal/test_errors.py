"""One error contract: /api/ answers the JSON shape of docs/errors.md; pages get pages."""

import logging

import pytest
from django.contrib.messages import get_messages
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.test import override_settings
from django.urls import include, path, reverse
from django.views.decorators.http import require_POST
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.throttling import BaseThrottle

from leads.capture.intake.api import SubmissionCreate
from leads.models import Submission
from portal.accounts.roles import Role
from portal.error_handlers import api_exception_handler
from portal.errors import Conflict
from tests.error_shape import assert_error_json
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

VALID = {"email": "ana@acme.example", "company": "Acme"}


@pytest.fixture
def form():
    return FormFactory()


@pytest.fixture
def api_url(form):
    return reverse("capture:api_submission_create", kwargs={"slug": form.slug})


@pytest.fixture
def quiet_client(client):
    """A client that gets the 500 response instead of the test re-raising the exception."""
    client.raise_request_exception = False
    return client


def post_json(client, url, data=VALID, **kwargs):
    return client.post(url, data, content_type="application/json", **kwargs)


def test_invalid_fields_answer_400_in_the_shape(client, api_url):
    errors = assert_error_json(post_json(client, api_url, {"email": "nope"}), 400, "invalid")
    assert errors == {"email": [{"message": "Enter a valid email address.", "code": "invalid"}]}


def test_malformed_json_answers_400_in_the_shape(client, api_url):
    response = client.post(api_url, "{not json", content_type="application/json")
    assert_error_json(response, 400, "parse_error")


def test_unknown_api_path_answers_404_in_the_shape(client):
    assert_error_json(client.get("/api/v1/nothing-here/"), 404, "not_found")


def test_unknown_form_answers_404_in_the_shape(client):
    url = reverse("capture:api_submission_create", kwargs={"slug": "no-such-form"})
    assert_error_json(post_json(client, url), 404, "not_found")


def test_wrong_method_answers_405_in_the_shape(client, api_url):
    response = client.get(api_url)
    assert_error_json(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_body_over_the_upload_limit_answers_413_in_the_shape(client, api_url):
    response = post_json(client, api_url, {**VALID, "note": "x" * 200})
    assert_error_json(response, 413, "too_large")
    assert not Submission.objects.exists()


def test_form_encoded_body_answers_415_in_the_shape(client, api_url):
    response = client.post(
        api_url, "email=ana%40acme.example", content_type="application/x-www-form-urlencoded"
    )
    assert_error_json(response, 415, "unsupported_media_type")
    assert not Submission.objects.exists()


class _AlwaysThrottled(BaseThrottle):
    def allow_request(self, request, view):
        return False

    def wait(self):
        return 30


def test_throttled_post_answers_429_in_the_shape_with_retry_after(client, api_url, monkeypatch):
    monkeypatch.setattr(SubmissionCreate, "throttle_classes", [_AlwaysThrottled])
    response = post_json(client, api_url)
    assert_error_json(response, 429, "rate_limited")
    assert response["Retry-After"] == "30"


def test_a_bug_answers_500_in_the_shape(quiet_client, api_url, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("leads.capture.intake.quarantine.lead_capture", broken)
    assert_error_json(post_json(quiet_client, api_url), 500, "server_error")


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_database_down_answers_503_in_the_shape_with_retry_after(
    quiet_client, api_url, monkeypatch, error
):
    def down(**kwargs):
        raise error("connection refused")

    monkeypatch.setattr("leads.capture.intake.quarantine.lead_capture", down)
    response = post_json(quiet_client, api_url)
    assert_error_json(response, 503, "unavailable")
    assert int(response["Retry-After"]) > 0


def test_database_down_on_the_hosted_form_answers_a_friendly_503_page(
    quiet_client, form, monkeypatch
):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("leads.capture.intake.quarantine.lead_capture", down)
    response = quiet_client.post(reverse("capture:form", kwargs={"slug": form.slug}), VALID)
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert int(response["Retry-After"]) > 0
    assert b"try again" in response.content


def test_unknown_page_is_still_an_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Not found" in response.content


def test_drf_validation_errors_are_mapped_into_the_shape():
    exc = ValidationError({"email": ["Bad address."], "non_field_errors": ["Nope."]})
    response = api_exception_handler(exc, {})
    assert response.status_code == 400
    assert response.data == {
        "code": "invalid",
        "errors": {
            "email": [{"message": "Bad address.", "code": "invalid"}],
            "__all__": [{"message": "Nope.", "code": "invalid"}],
        },
    }


def test_drf_throttled_is_mapped_with_retry_after():
    response = api_exception_handler(Throttled(wait=12), {})
    assert (response.status_code, response.data["code"], response["Retry-After"]) == (
        429,
        "rate_limited",
        "12",
    )


# Views that raise on purpose, to see what the middleware makes of a DomainError.
def _conflicting(request):
    raise Conflict("Someone else accepted this lead first.", code="already_accepted")


@require_POST
def _post_only(request):
    return HttpResponse("ok")


urlpatterns = [
    path("boom/", _conflicting),
    path("api/boom/", _conflicting),
    path("api/post-only/", _post_only),
    path("", include("portal.urls")),
]


@pytest.mark.urls(__name__)
def test_domain_error_on_a_post_goes_back_to_the_page_with_a_message(client):
    response = client.post("/boom/", headers={"Referer": "http://testserver/leads/"})
    assert (response.status_code, response["Location"]) == (302, "http://testserver/leads/")
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert messages == ["Someone else accepted this lead first."]


@pytest.mark.urls(__name__)
def test_domain_error_from_another_site_is_not_followed_back(client):
    response = client.post("/boom/", headers={"Referer": "https://evil.example/"})
    assert response.status_code == 409
    assert b"Someone else accepted this lead first." in response.content


@pytest.mark.urls(__name__)
def test_domain_error_on_a_page_renders_an_error_page_with_its_status(client):
    response = client.get("/boom/")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert b"Someone else accepted this lead first." in response.content


@pytest.mark.urls(__name__)
def test_domain_error_under_api_answers_json(client):
    errors = assert_error_json(client.get("/api/boom/"), 409, "already_accepted")
    assert errors["__all__"][0]["message"] == "Someone else accepted this lead first."


@pytest.mark.urls(__name__)
def test_plain_django_405_under_api_is_made_json(client):
    response = client.get("/api/post-only/")
    assert_error_json(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


def test_a_403_logs_one_line_without_a_traceback(client, caplog):
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.get(reverse("capture:form_list")).status_code == 403
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in logged] == ["Forbidden (Permission denied): /forms/"]
    assert logged[0].exc_info is None
    # Written once, by the root's handler: Django's own console handler (DEBUG) printed
    # every record a second time.
    assert logging.getLogger("django").handlers == []
    assert len(logging.getLogger().handlers) == 1 + len(
        [h for h in logging.getLogger().handlers if type(h).__module__.startswith("_pytest")]
    )


def test_a_500_still_logs_its_traceback(quiet_client, api_url, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("the bug")

    monkeypatch.setattr("leads.capture.intake.quarantine.lead_capture", broken)
    post_json(quiet_client, api_url)
    errors = [r for r in caplog.records if r.name == "django.request"]
    assert errors and errors[0].exc_info is not None
