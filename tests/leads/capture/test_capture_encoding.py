"""Bytes that are not text in the post's charset are refused by field name, never stored as
mojibake; a charset the client names is the one the post is read in.

Django reads a url-encoded body with one bad byte as ISO-8859-1 throughout ("JosÃ©") and a
multipart field with U+FFFD for each bad byte; both were stored and answered 302.
"""

import pytest
from django.urls import reverse

from leads.models import Lead, Submission
from tests.error_shape import assert_error_json
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

FORM_ENCODED = "application/x-www-form-urlencoded"
BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"


def multipart(fields: dict[str, bytes], boundary: str = BOUNDARY) -> bytes:
    """A multipart body as a browser sends it, with each value's bytes as given."""
    parts = [
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (boundary.encode(), name.encode(), value)
        for name, value in fields.items()
    ]
    return b"".join(parts) + b"--%s--\r\n" % boundary.encode()


@pytest.fixture
def form():
    return FormFactory()


@pytest.fixture
def page_url(form):
    return reverse("capture:form", kwargs={"slug": form.slug})


def assert_nothing_stored():
    assert not Submission.objects.exists()
    assert not Lead.objects.exists()


def test_hosted_form_refuses_a_raw_byte_that_is_not_utf8_by_name(client, page_url):
    body = b"email=ana%40acme.example&first_name=Jos\xc3\xa9&company=\xff"
    response = client.post(page_url, body, content_type=FORM_ENCODED)
    assert response.status_code == 400
    assert b"Company</a>: Not valid UTF-8 text." in response.content
    assert b"First name</a>:" not in response.content  # "José" was UTF-8
    assert_nothing_stored()


def test_hosted_form_keeps_raw_utf8_bytes_as_they_were_meant(client, page_url):
    body = b"email=ana%40acme.example&first_name=Jos\xc3\xa9"
    response = client.post(page_url, body, content_type=FORM_ENCODED)
    assert response.status_code == 302
    assert Lead.objects.get().first_name == "José"


def test_hosted_form_refuses_a_multipart_field_in_cp1252_by_name(client, page_url):
    body = multipart({"email": b"ana@acme.example", "company": b"M\xfcller GmbH"})
    response = client.post(page_url, body, content_type=f"multipart/form-data; boundary={BOUNDARY}")
    assert response.status_code == 400
    assert b"Company</a>: Not valid UTF-8 text." in response.content
    assert_nothing_stored()


def test_hosted_form_reads_a_url_encoded_post_in_the_charset_it_names(client, page_url):
    # The test client encodes a str body in the charset the Content-Type names.
    response = client.post(
        page_url,
        "email=ana%40acme.example&company=Caf\xe9&first_name=Jos%E9",
        content_type=f"{FORM_ENCODED}; charset=ISO-8859-1",
    )
    assert response.status_code == 302, response.content
    lead = Lead.objects.get()
    assert (lead.company, lead.first_name) == ("Café", "José")


def test_hosted_form_reads_latin_1_as_browsers_do_as_windows_1252(client, page_url):
    response = client.post(
        page_url,
        "email=ana%40acme.example&company=%93Acme%94+%80",
        content_type=f"{FORM_ENCODED}; charset=latin-1",
    )
    assert response.status_code == 302, response.content
    assert Lead.objects.get().company == "\u201cAcme\u201d \u20ac"


def test_hosted_form_reads_a_multipart_post_in_the_charset_it_names(client, page_url):
    body = multipart({"email": b"ana@acme.example", "company": b"M\xfcller GmbH"})
    response = client.post(
        page_url,
        body.decode("cp1252"),  # encoded back to these bytes by the test client
        content_type=f"multipart/form-data; boundary={BOUNDARY}; charset=cp1252",
    )
    assert response.status_code == 302, response.content
    assert Lead.objects.get().company == "Müller GmbH"


def test_api_names_the_field_whose_bytes_are_not_utf8(client, form):
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    body = '{"email": "ana@acme.example", "company": "Caf\xe9"}'.encode("latin-1")
    response = client.post(url, body, content_type="application/json")
    errors = assert_error_json(response, 400, "invalid_encoding")
    assert [problem["code"] for problem in errors["company"]] == ["invalid_encoding"]
    assert_nothing_stored()


def test_hubspot_names_the_field_whose_bytes_are_not_utf8(client, form):
    url = reverse("capture:hubspot_submit", kwargs={"portal_id": "1", "guid": form.guid})
    body = (
        '{"fields": [{"name": "email", "value": "ana@acme.example"}, '
        '{"name": "company", "value": "Caf\xe9"}]}'
    ).encode("latin-1")
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    message = "Error in 'fields.company'. Not valid UTF-8 text."
    assert response.json()["errors"] == [{"message": message, "errorType": "INVALID_ENCODING"}]
    assert_nothing_stored()
