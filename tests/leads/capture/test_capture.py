"""The public form: every valid submission stored before the OK, bad input named and refused."""

from ipaddress import ip_network

import pytest
from django.test import override_settings
from django.urls import reverse

from leads.capture.models import FormField
from leads.capture.services import form_publish
from leads.models import Lead, LeadEvent, Stage, Submission
from tests.factories import AgreementFactory, FormFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    return FormFactory()


def post(client, form, **data):
    return client.post(reverse("capture:form", kwargs={"slug": form.slug}), data)


def test_published_form_page_shows_its_fields(client, form):
    response = client.get(reverse("capture:form", kwargs={"slug": form.slug}))
    assert response.status_code == 200
    assert b'name="email"' in response.content
    assert b"Work e-mail" in response.content


def test_unpublished_form_is_not_found(client):
    draft = FormFactory(publish=False)
    assert client.get(reverse("capture:form", kwargs={"slug": draft.slug})).status_code == 404
    assert post(client, draft, email="a@acme.example").status_code == 404


def test_valid_submission_stores_submission_lead_and_first_event(client, form):
    response = post(client, form, email="  Ana@Acme.Example ", company="Acme", utm_source="ads")
    assert response.status_code == 302
    assert response["Location"] == reverse("capture:thanks", kwargs={"slug": form.slug})
    lead = Lead.objects.get()
    assert lead.email == "ana@acme.example"
    assert lead.company == "Acme"
    assert lead.source_form == form
    submission = Submission.objects.get()
    assert submission.lead == lead
    assert submission.payload["email"] == "  Ana@Acme.Example "
    assert submission.utm == {"utm_source": "ads"}
    event = LeadEvent.objects.get()
    assert (event.from_stage, event.to_stage, event.actor) == ("", Stage.CAPTURED, None)
    assert event.reason == f"Submitted the form {form.name}."


def test_second_submission_by_same_person_updates_the_lead(client, form):
    post(client, form, email="ana@acme.example", company="Acme")
    post(client, form, email="ANA@acme.example", first_name="Ana")
    lead = Lead.objects.get()
    assert lead.submissions.count() == 2
    assert lead.first_name == "Ana"
    assert lead.company == "Acme"
    assert lead.attributes["first_name"] == "Ana"
    assert list(lead.events.values_list("kind", "to_stage", "data__created")) == [
        (LeadEvent.Kind.SUBMISSION_RECEIVED, Stage.CAPTURED, True),
        (LeadEvent.Kind.SUBMISSION_RECEIVED, "", False),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"company": "Acme"}, b"Work e-mail</a>: This field is required."),
        ({"email": "not-an-address"}, b"Work e-mail</a>: Enter a valid email address."),
        (
            {"email": "a@acme.example", "company": "x" * 1_000_000},
            b"Company</a>: Ensure this value has at most 255 characters (it has 1000000).",
        ),
        (
            {"email": "a@acme.example", "company_size": "many"},
            b"Employees</a>: Enter a whole number.",
        ),
    ],
    ids=["missing-email", "malformed-email", "megabyte-field", "not-a-number"],
)
def test_bad_input_names_the_field_and_stores_nothing(client, form, data, message):
    response = post(client, form, **data)
    assert response.status_code == 400
    assert message in response.content
    assert not Submission.objects.exists()
    assert not Lead.objects.exists()


def test_bad_resubmission_leaves_the_stored_lead_untouched(client, form):
    post(client, form, email="ana@acme.example", company="Acme")
    post(client, form, email="ana@acme.example", company="y" * 300)
    lead = Lead.objects.get()
    assert lead.company == "Acme"
    assert lead.submissions.count() == 1


def test_repeated_idempotency_key_stores_one_submission(client, form):
    for _ in range(2):
        response = client.post(
            reverse("capture:form", kwargs={"slug": form.slug}),
            {"email": "ana@acme.example"},
            headers={"Idempotency-Key": "retry-1"},
        )
        assert response.status_code == 302
    assert Submission.objects.count() == 1


def post_through(client, form, *, peer: str, forwarded_for: str):
    return client.post(
        reverse("capture:form", kwargs={"slug": form.slug}),
        {"email": "ana@acme.example"},
        headers={"X-Forwarded-For": forwarded_for},
        REMOTE_ADDR=peer,
    )


def test_forwarded_for_from_an_untrusted_peer_is_not_stored(client, form):
    post_through(client, form, peer="203.0.113.7", forwarded_for="198.51.100.99")
    assert Submission.objects.get().ip_address == "203.0.113.7"


@override_settings(TRUSTED_PROXIES=[ip_network("10.0.0.0/8")])
def test_behind_a_trusted_proxy_the_clients_own_address_is_stored(client, form):
    post_through(client, form, peer="10.0.0.2", forwarded_for="198.51.100.23")
    assert Submission.objects.get().ip_address == "198.51.100.23"


def test_submission_is_scored_only_after_it_is_committed(
    client, form, django_capture_on_commit_callbacks
):
    AgreementFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post(client, form, email="ana@acme.example", company_size="10")
    lead = Lead.objects.get()
    assert lead.stage == Stage.CAPTURED
    assert not lead.qualifications.exists()
    assert len(callbacks) == 1
    callbacks[0]()
    lead.refresh_from_db()
    assert lead.stage == Stage.DISQUALIFIED


def test_stored_submission_cannot_be_edited_or_deleted(client, form):
    post(client, form, email="ana@acme.example")
    submission = Submission.objects.get()
    submission.payload = {"email": "forged@acme.example"}
    with pytest.raises(ValueError, match="never edited"):
        submission.save()
    with pytest.raises(ValueError, match="never deleted"):
        submission.delete()


def test_a_draft_field_reaches_the_public_form_only_when_published(client, form):
    url = reverse("capture:form", kwargs={"slug": form.slug})
    FormField.objects.create(form=form, key="phone", label="Phone", position=9)
    assert b'name="phone"' not in client.get(url).content
    form_publish(form=form, by=None)
    assert b'name="phone"' in client.get(url).content
