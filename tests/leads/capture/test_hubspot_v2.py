"""HubSpot's legacy Forms API v2 (/uploads/form/v2/<portal>/<guid>): form-encoded fields and
hs_context, answered as HubSpot did (204, or 302 to redirectUrl), and every post HubSpot would
have taken kept, with its problems recorded."""

import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.urls import reverse

from leads.capture.models import Form
from leads.models import Lead, Submission
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "hubspot"
FORM_ENCODED = "application/x-www-form-urlencoded"
HUBSPOT_GUID = uuid.UUID("0f8c2a4e-3b1d-4c5e-8a7f-6b9c0d1e2f3a")


@pytest.fixture
def form():
    form = FormFactory(allowed_origins=["http://demo.hubapi.com"])
    Form.objects.filter(pk=form.pk).update(
        hubspot_portal_id="62515", hubspot_form_guid=HUBSPOT_GUID
    )
    form.refresh_from_db()
    return form


def post(client, body, guid=HUBSPOT_GUID, portal_id="62515", **meta):
    url = reverse("capture:hubspot_v2_submit", kwargs={"portal_id": portal_id, "guid": guid})
    return client.post(url, body, content_type=FORM_ENCODED, **meta)


def documented(redirect: str) -> str:
    return (
        (FIXTURES / "v2_legacy_docs.txt")
        .read_text()
        .replace("{redirect}", quote(redirect, safe=""))
    )


def test_the_documented_post_redirects_to_its_redirect_url_on_a_listed_site(client, form):
    response = post(client, documented("http://demo.hubapi.com/thank-you/"))
    assert response.status_code == 302
    assert response["Location"] == "http://demo.hubapi.com/thank-you/"
    submission = Submission.objects.get()
    lead = submission.lead
    assert (lead.email, lead.first_name, lead.last_name) == (
        "formsubmissiontest@hubspot.com",
        "TestContact",
        "FormSub",
    )
    assert submission.page_url == "http://demo.hubapi.com/contact/?utm_source=newsletter"
    assert submission.utm == {"utm_source": "newsletter"}
    assert submission.payload["hs_context"]["pageName"] == "Contact Us"
    assert submission.payload["newcustomproperty"] == "testing"
    # The IP address is the connection's: anyone may post here.
    assert submission.ip_address == "127.0.0.1"


def test_without_a_redirect_url_the_answer_is_204(client, form):
    response = post(client, "email=ana%40acme.example&firstname=Ana")
    assert response.status_code == 204
    assert response.content == b""
    assert Lead.objects.get().first_name == "Ana"


def test_a_redirect_url_on_another_site_is_not_followed(client, form):
    response = post(client, documented("https://evil.example/phish"))
    assert response.status_code == 302
    assert response["Location"] == f"/f/{form.slug}/thanks/"
    assert Submission.objects.count() == 1


def test_a_post_the_form_refuses_is_kept_with_its_problems(client, form):
    response = post(client, "email=ana+at+acme&numemployees=many&hs_context=%7Bbroken")
    assert response.status_code == 204
    submission = Submission.objects.get()
    found = {(problem["field"], problem["code"]) for problem in submission.problems}
    assert found == {("email", "invalid"), ("company_size", "invalid"), ("hs_context", "invalid")}
    assert submission.payload["hs_context"] == "{broken"
    assert submission.lead.email is None  # no address: a lead of its own


def test_our_own_guid_works_under_any_portal(client, form):
    assert post(client, "email=a%40acme.example", guid=form.guid, portal_id="1").status_code == 204


@pytest.mark.parametrize(
    ("portal_id", "guid"), [("999", HUBSPOT_GUID), ("62515", uuid.uuid4()), ("62515", "nope")]
)
def test_an_unknown_form_is_404(client, form, portal_id, guid):
    assert post(client, "email=a%40acme.example", guid=guid, portal_id=portal_id).status_code == 404
    assert not Submission.objects.exists()


def test_a_get_is_405(client, form):
    url = reverse("capture:hubspot_v2_submit", kwargs={"portal_id": "62515", "guid": HUBSPOT_GUID})
    assert client.get(url).status_code == 405


def test_a_listed_site_may_post_from_the_browser(client, form):
    response = post(client, "email=a%40acme.example", HTTP_ORIGIN="http://demo.hubapi.com")
    assert response["Access-Control-Allow-Origin"] == "http://demo.hubapi.com"
    response = post(client, "email=b%40acme.example", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response
