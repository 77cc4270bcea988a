"""Embedding: only the sites a form lists may post to it (CORS) or frame its page."""

from html import unescape

import pytest
from django.urls import reverse

from leads.models import Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

LISTED = "https://www.acme.example"
UNLISTED = "https://evil.example"


@pytest.fixture
def form():
    form = FormFactory()
    form.allowed_origins = [LISTED, "http://localhost:8001"]
    form.save(update_fields=["allowed_origins"])
    return form


def submissions_url(form):
    return reverse("capture:api_submission_create", kwargs={"slug": form.slug})


def post_from(client, url, origin, body=None):
    return client.post(
        url,
        body or {"email": "ana@acme.example"},
        content_type="application/json",
        HTTP_ORIGIN=origin,
    )


def test_a_post_from_a_listed_site_is_allowed_to_read_the_answer(client, form):
    response = post_from(client, submissions_url(form), LISTED)
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == LISTED
    assert "origin" in response["Vary"].lower()


def test_field_errors_reach_the_listed_site_too(client, form):
    response = post_from(client, submissions_url(form), LISTED, {"email": "nope"})
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == LISTED
    assert response.json()["errors"]["email"][0]["code"] == "invalid"


def test_a_post_from_an_unlisted_site_gets_no_cors_headers(client, form):
    response = post_from(client, submissions_url(form), UNLISTED)
    assert "Access-Control-Allow-Origin" not in response


def test_a_site_listed_by_another_form_is_not_allowed_here(client, form):
    other = FormFactory()
    response = post_from(client, submissions_url(other), LISTED)
    assert "Access-Control-Allow-Origin" not in response


def test_the_preflight_allows_json_and_the_idempotency_key_for_a_listed_site(client, form):
    response = client.options(
        submissions_url(form),
        HTTP_ORIGIN=LISTED,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, idempotency-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == LISTED
    assert "idempotency-key" in response["Access-Control-Allow-Headers"]
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert not Submission.objects.exists()


def test_the_preflight_from_an_unlisted_site_is_not_allowed(client, form):
    response = client.options(
        submissions_url(form), HTTP_ORIGIN=UNLISTED, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in response


def test_the_embed_reads_the_published_form_from_a_listed_site(client, form):
    url = reverse("capture:api_form_definition", kwargs={"slug": form.slug})
    response = client.get(url, HTTP_ORIGIN=LISTED)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == LISTED
    body = response.json()
    assert body["name"] == form.name
    assert body["version"] == 1
    assert [field["key"] for field in body["fields"]] == [
        "email",
        "first_name",
        "company",
        "company_size",
        "country",
        "consent",
    ]
    assert body["fields"][0] == {
        "key": "email",
        "label": "Work e-mail",
        "kind": "email",
        "required": True,
        "help_text": "",
        "choices": [],
        "default": "",
    }
    assert body["thank_you_message"] == form.thank_you_message


def test_an_unpublished_form_is_not_shown_to_the_embed(client):
    form = FormFactory(publish=False)
    url = reverse("capture:api_form_definition", kwargs={"slug": form.slug})
    assert client.get(url).status_code == 404


def test_other_pages_never_open_cors(client, form):
    response = client.get(reverse("capture:form", kwargs={"slug": form.slug}), HTTP_ORIGIN=LISTED)
    assert "Access-Control-Allow-Origin" not in response
    response = client.get(reverse("login"), HTTP_ORIGIN=LISTED)
    assert "Access-Control-Allow-Origin" not in response


def test_the_hosted_page_may_be_framed_by_the_listed_sites_only(client, form):
    for name in ("capture:form", "capture:thanks"):
        response = client.get(reverse(name, kwargs={"slug": form.slug}))
        # The site's policy, with the listed sites as its frame-ancestors.
        policy = response["Content-Security-Policy"]
        assert f"frame-ancestors {LISTED} http://localhost:8001" in policy
        assert "script-src 'self'" in policy
        assert "X-Frame-Options" not in response


def test_a_form_that_lists_no_site_is_never_framed(client):
    form = FormFactory()
    response = client.get(reverse("capture:form", kwargs={"slug": form.slug}))
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_every_other_page_keeps_x_frame_options_deny(client, form):
    assert client.get(reverse("login"))["X-Frame-Options"] == "DENY"
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.get(reverse("capture:builder", args=[form.pk]))
    assert response["X-Frame-Options"] == "DENY"


def test_the_forms_page_shows_both_snippets_and_the_compatible_endpoints(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    page = unescape(client.get(reverse("capture:builder", args=[form.pk])).content.decode())
    assert f'data-leadbridge-form="{form.slug}"' in page
    assert "/static/capture/embed.js" in page
    assert f'<iframe data-leadbridge-src="http://testserver/f/{form.slug}/"' in page
    assert '<script src="http://testserver/static/capture/frame.js" async>' in page
    assert f"/submissions/v3/integration/submit/0/{form.guid}" in page
    assert "/servlet/servlet.WebToLead?encoding=UTF-8" in page
    assert LISTED in page


def settings_post(form, **changes):
    data = {
        "name": form.name,
        "slug": form.slug,
        "thank_you_message": form.thank_you_message,
        "phone_region": "US",
        "allowed_origins": "",
    }
    return {**data, **changes}


def test_a_marketer_lists_the_sites_normalised(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    url = reverse("capture:form_edit", args=[form.pk])
    lines = "https://WWW.Partner.example/\nhttp://localhost:8001\nhttps://shop.example:443\n"
    response = client.post(url, settings_post(form, allowed_origins=lines))
    assert response.status_code == 302
    form.refresh_from_db()
    assert form.allowed_origins == [
        "https://www.partner.example",
        "http://localhost:8001",
        "https://shop.example",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "www.acme.example",
        "ftp://acme.example",
        "https://acme.example/page",
        "https://*.acme.example",
    ],
)
def test_an_address_that_is_not_a_site_is_refused_by_name(client, form, line):
    client.force_login(UserFactory(role=Role.MARKETER))
    url = reverse("capture:form_edit", args=[form.pk])
    response = client.post(url, settings_post(form, allowed_origins=line))
    assert response.status_code == 400
    assert f"{line} is not a site" in response.content.decode()
    form.refresh_from_db()
    assert form.allowed_origins == [LISTED, "http://localhost:8001"]
