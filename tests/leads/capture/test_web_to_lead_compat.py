"""The Salesforce Web-to-Lead drop-in: its form fields in, Salesforce's page sending the
browser on to retURL out. What it keeps of posts the form refuses: test_web_to_lead_keeps_posts."""

import html
import re
import uuid

import pytest
from django.urls import reverse

from leads.capture.models import FormField
from leads.capture.services import form_publish
from leads.models import Submission
from tests.factories import FormFactory

pytestmark = pytest.mark.django_db

SERVLET = "/servlet/servlet.WebToLead?encoding=UTF-8"
LISTED = "https://www.acme.example"


@pytest.fixture
def form():
    form = FormFactory()
    FormField.objects.create(form=form, key="last_name", label="Last name", position=5)
    FormField.objects.create(form=form, key="job_title", label="Job title", position=6)
    form.allowed_origins = [LISTED]
    form.save(update_fields=["allowed_origins"])
    form_publish(form=form, by=None)
    form.refresh_from_db()
    return form


def post(client, form, url=SERVLET, **fields):
    required = {"last_name": "Souza", "company": "Acme"}  # all Salesforce requires
    return client.post(url, {"oid": str(form.guid), **required, **fields})


def sent_on_to(response) -> str:
    """Where Salesforce's 200 page sends the browser (its refresh, and its link)."""
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    found = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]*)">', page)
    assert found, page
    assert f'href="{found[1]}"' in page
    return html.unescape(found[1])


def test_the_salesforce_fields_fill_the_form_and_the_visitor_goes_to_ret_url(client, form):
    response = post(
        client,
        form,
        email="Ana@Acme.example",
        first_name="Ana",
        last_name="Souza",
        company="Acme",
        title="CTO",
        employees="80",
        city="Recife",
        lead_source="Web",
        Campaign_ID="701000000000001",
        retURL="https://www.acme.example/thanks",
    )
    assert sent_on_to(response) == "https://www.acme.example/thanks"
    submission = Submission.objects.get()
    assert submission.payload == {
        "oid": str(form.guid),
        "email": "Ana@Acme.example",
        "first_name": "Ana",
        "last_name": "Souza",
        "company": "Acme",
        "job_title": "CTO",
        "company_size": "80",
        "city": "Recife",
        "lead_source": "Web",
        "campaign_id": "701000000000001",
        "retURL": "https://www.acme.example/thanks",
    }
    lead = submission.lead
    assert (lead.email, lead.first_name, lead.last_name) == ("ana@acme.example", "Ana", "Souza")
    assert lead.attributes["job_title"] == "CTO"
    assert lead.attributes["company_size"] == 80
    assert lead.campaign == "701000000000001"
    assert submission.utm == {"utm_campaign": "701000000000001", "utm_source": "Web"}


def test_the_clean_alias_takes_the_same_post(client, form):
    response = post(client, form, url=reverse("capture:web_to_lead"), email="a@acme.example")
    assert sent_on_to(response) == reverse("capture:thanks", args=[form.slug])
    assert Submission.objects.count() == 1


def test_without_ret_url_the_visitor_is_thanked_by_us(client, form):
    response = post(client, form, email="a@acme.example")
    assert sent_on_to(response) == reverse("capture:thanks", args=[form.slug])


@pytest.mark.parametrize(
    "ret_url",
    [
        "https://evil.example/phish",
        "//evil.example/",
        "javascript:alert(1)",
        "/relative",
        "https://www.acme.example/\r\nSet-Cookie: x=1",
        "http://[www.acme.example",
    ],
)
def test_a_ret_url_off_the_listed_sites_is_never_followed(client, form, ret_url):
    response = post(client, form, email="a@acme.example", retURL=ret_url)
    assert sent_on_to(response) == reverse("capture:thanks", args=[form.slug])
    assert Submission.objects.count() == 1  # the lead is kept all the same


def test_a_ret_url_on_the_forms_redirect_site_is_followed(client, form):
    form.redirect_url = "https://partner.example/done"
    form.save(update_fields=["redirect_url"])
    response = post(client, form, email="a@acme.example", retURL="https://partner.example/x")
    assert sent_on_to(response) == "https://partner.example/x"
    response = post(client, form, email="b@acme.example", retURL="https://evil.example/x")
    assert sent_on_to(response) == "https://partner.example/done"


def test_fields_the_form_refuses_are_kept_raw_with_their_problems(client, form):
    response = post(client, form, email="nope", employees="many")
    assert sent_on_to(response) == reverse("capture:thanks", args=[form.slug])
    submission = Submission.objects.get()
    assert [(p["field"], p["code"], p["raw"]) for p in submission.problems] == [
        ("email", "invalid", "nope"),
        ("company_size", "invalid", "many"),
    ]
    assert submission.lead.attributes["company_size"] == "many"


@pytest.mark.parametrize("oid", ["", "00E000000000001", "not-a-guid"])
def test_an_oid_that_is_neither_an_org_id_nor_a_form_id_is_400(client, form, oid):
    response = client.post(SERVLET, {"oid": oid, "email": "a@acme.example"})
    assert response.status_code == 400
    assert "oid must be the Salesforce org id set on the form" in response.content.decode()


def test_an_org_id_no_form_has_is_404(client, form):
    response = client.post(SERVLET, {"oid": "00D000000000001", "last_name": "A", "company": "B"})
    assert response.status_code == 404


def test_an_unknown_or_unpublished_form_is_404(client, form):
    response = client.post(SERVLET, {"oid": str(uuid.uuid4()), "email": "a@acme.example"})
    assert response.status_code == 404
    unpublished = FormFactory(publish=False)
    assert post(client, unpublished, email="a@acme.example").status_code == 404


def test_another_encoding_is_read_in_that_encoding(client, form):
    url = "/servlet/servlet.WebToLead?encoding=ISO-8859-1"
    body = f"oid={form.guid}&email=a%40acme.example&last_name=Souza&company=Caf%E9"
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert sent_on_to(response)
    submission = Submission.objects.get()
    assert (submission.lead.company, submission.problems) == ("Café", [])


def test_bytes_that_are_not_utf8_are_kept_as_windows_1252_with_the_problem(client, form):
    body = f"oid={form.guid}&email=a%40acme.example&last_name=Souza&company=Caf%E9"
    response = client.post(SERVLET, body, content_type="application/x-www-form-urlencoded")
    assert sent_on_to(response)
    submission = Submission.objects.get()
    assert submission.lead.company == "Café"
    [problem] = submission.problems
    assert (problem["field"], problem["code"], problem["raw"]) == (
        "company",
        "invalid_encoding",
        "Caf%E9",
    )
    assert problem["message"] == "Not valid UTF-8 text; read as windows-1252."


def test_get_is_405(client):
    assert client.get(SERVLET).status_code == 405


def test_a_repeat_with_the_same_idempotency_key_is_stored_once(client, form):
    for _ in range(2):
        fields = {
            "oid": str(form.guid),
            "email": "a@acme.example",
            "last_name": "S",
            "company": "A",
        }
        response = client.post(SERVLET, fields, HTTP_IDEMPOTENCY_KEY="k")
        assert response.status_code == 200
    assert Submission.objects.count() == 1
