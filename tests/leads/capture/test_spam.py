"""Every public intake runs every spam check; a suspect post is held, answered like a success."""

import re
import time

import pytest
from django.urls import reverse

from leads.capture.intake.spam import (
    HONEYPOT_FIELD,
    RENDERED_FIELD,
    Signals,
    is_disposable,
    render_token,
    spam_findings,
)
from leads.capture.models import Form, QuarantinedPost
from leads.models import Lead, Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db

Reason = QuarantinedPost.Reason
KINDS = ["page", "api", "embed", "hubspot", "web_to_lead"]
PERSON = {"email": "ana@acme.example", "company": "Acme", "company_size": "80"}


@pytest.fixture
def form():
    form = FormFactory(thank_you_message="Thanks, we will call you.")
    form.stop_phrases = ["cheap SEO"]
    form.save(update_fields=["stop_phrases"])
    return form


@pytest.fixture
def min_fill(settings):
    settings.SPAM_MIN_FILL_SECONDS = 3
    return 3


def shown_token(client, form, kind) -> str:
    """The render token as a visitor's browser gets it: from the page or the embed's API."""
    if kind == "page":
        html = client.get(reverse("capture:form", args=[form.slug])).content.decode()
        return re.search(rf'name="{RENDERED_FIELD}" value="([^"]+)"', html).group(1)
    definition = client.get(reverse("capture:api_form_definition", args=[form.slug])).json()
    assert definition["spam"]["token_field"] == RENDERED_FIELD
    return definition["spam"]["token"]


def send(client, form, kind, values: dict, *, honeypot: str | None = None, token=None):
    """Post `values` the way this intake takes them; the spam fields as a page or embed would."""
    extras = {}
    if honeypot is not None:
        extras[HONEYPOT_FIELD] = honeypot
    if token is not None:
        extras[RENDERED_FIELD] = token
    if kind == "page":
        return client.post(reverse("capture:form", args=[form.slug]), {**values, **extras})
    if kind in ("api", "embed"):
        url = reverse("capture:api_submission_create", args=[form.slug])
        return client.post(url, {**values, **extras}, content_type="application/json")
    if kind == "hubspot":
        url = reverse("capture:hubspot_submit", kwargs={"portal_id": "1", "guid": form.guid})
        fields = [{"name": name, "value": value} for name, value in {**values, **extras}.items()]
        return client.post(url, {"fields": fields}, content_type="application/json")
    url = reverse("capture:web_to_lead") + "?encoding=UTF-8"
    sf = {"employees" if name == "company_size" else name: value for name, value in values.items()}
    sf.setdefault("last_name", "Souza")  # Salesforce requires it
    return client.post(url, {"oid": str(form.guid), **sf, **extras})


def success(response, kind, form) -> dict:
    """What a stored post answers on this intake (the same for a held one)."""
    if kind == "web_to_lead":  # Salesforce's 200 page that sends the browser on
        assert response.status_code == 200, response.content
        assert f'url={reverse("capture:thanks", args=[form.slug])}"' in response.content.decode()
        return {}
    if kind == "page":
        assert response.status_code == 302, response.content
        assert response["Location"] == reverse("capture:thanks", args=[form.slug])
        return {}
    if kind == "hubspot":
        assert response.status_code == 200, response.content
        assert response.json() == {"inlineMessage": "Thanks, we will call you."}
        return {}
    assert response.status_code == 201, response.content
    return response.json()


def assert_held(kind, form, *reasons):
    assert not Lead.objects.exists()
    assert not Submission.objects.exists()
    post = QuarantinedPost.objects.get()
    assert post.reasons == list(reasons)
    assert (post.form, post.status, post.email) == (form, "held", "ana@acme.example")
    assert post.form_version == form.current_version
    assert HONEYPOT_FIELD not in post.payload and RENDERED_FIELD not in post.payload
    assert post.cleaned["company"] == PERSON["company"]
    assert post.ip_address == "127.0.0.1"
    return post


@pytest.mark.parametrize("kind", KINDS)
def test_a_person_who_takes_their_time_is_captured(client, form, min_fill, kind):
    token = render_token(form, at=time.time() - 10) if kind in ("page", "embed") else None
    body = success(send(client, form, kind, PERSON, honeypot="", token=token), kind, form)
    assert Lead.objects.get().email == "ana@acme.example"
    assert not QuarantinedPost.objects.exists()
    if body:
        assert body["lead"] == Lead.objects.get().pk
    assert HONEYPOT_FIELD not in Submission.objects.get().payload


@pytest.mark.parametrize("kind", KINDS)
def test_a_filled_honeypot_is_held_and_answered_like_a_success(client, form, kind):
    body = success(send(client, form, kind, PERSON, honeypot="https://spam.example"), kind, form)
    if body:
        assert body == {"submission": None, "lead": None}
    assert_held(kind, form, Reason.HONEYPOT)


@pytest.mark.parametrize("kind", ["page", "embed"])
def test_a_post_sent_right_after_the_form_was_shown_is_held(client, form, min_fill, kind):
    token = shown_token(client, form, kind)
    success(send(client, form, kind, PERSON, honeypot="", token=token), kind, form)
    post = assert_held(kind, form, Reason.TOO_FAST)
    assert post.details[0].startswith("Sent 0.")


@pytest.mark.parametrize("kind", KINDS)
def test_a_forged_render_token_is_held(client, form, min_fill, kind):
    success(send(client, form, kind, PERSON, token="1700000000:forged"), kind, form)
    assert_held(kind, form, Reason.FORGED_TOKEN)


def test_a_token_of_another_form_is_held(client, form, min_fill):
    other = FormFactory()
    token = render_token(other, at=time.time() - 60)
    success(send(client, form, "page", PERSON, token=token), "page", form)
    post = assert_held("page", form, Reason.FORGED_TOKEN)
    assert post.details == ["The render token belongs to another form."]


@pytest.mark.parametrize("kind", ["api", "hubspot", "web_to_lead"])
def test_callers_without_a_token_are_not_judged_by_fill_time(client, form, min_fill, kind):
    success(send(client, form, kind, PERSON), kind, form)
    assert Lead.objects.exists()
    assert not QuarantinedPost.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_disposable_email_domain_is_held(client, form, kind):
    success(send(client, form, kind, {**PERSON, "email": "ana@mailinator.com"}), kind, form)
    post = QuarantinedPost.objects.get()
    assert post.reasons == [Reason.DISPOSABLE_EMAIL]
    assert post.details == ["mailinator.com is a disposable e-mail domain."]
    assert not Lead.objects.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_a_stop_phrase_of_the_form_is_held_whatever_its_case(client, form, kind):
    values = {**PERSON, "company": "Acme CHEAP seo services"}
    success(send(client, form, kind, values), kind, form)
    post = QuarantinedPost.objects.get()
    assert post.reasons == [Reason.STOP_PHRASE]
    assert post.details == ["Contains the stop phrase “cheap SEO”."]
    assert not Lead.objects.exists()


def test_every_reason_is_recorded_in_order(client, form, min_fill):
    values = {**PERSON, "email": "ana@mailinator.com", "company": "cheap seo"}
    send(client, form, "page", values, honeypot="x", token=shown_token(client, form, "page"))
    assert QuarantinedPost.objects.get().reasons == [
        Reason.HONEYPOT,
        Reason.TOO_FAST,
        Reason.DISPOSABLE_EMAIL,
        Reason.STOP_PHRASE,
    ]


def test_an_invalid_post_is_refused_as_usual_not_held(client, form):
    response = send(client, form, "api", {"company": "Acme"}, honeypot="x")
    assert response.status_code == 400
    assert not QuarantinedPost.objects.exists()


def test_the_hosted_page_draws_a_honeypot_no_person_sees_or_tabs_to(client, form):
    html = client.get(reverse("capture:form", args=[form.slug])).content.decode()
    trap = re.search(r'<div class="lb-hp" aria-hidden="true"[^>]*>.*?</div>', html, re.S).group()
    assert "left:-10000px" in trap
    assert re.search(rf'<input type="text" [^>]*name="{HONEYPOT_FIELD}"[^>]*tabindex="-1"', trap)


def test_the_page_shown_again_after_errors_keeps_its_first_render_time(client, form):
    token = render_token(form, at=time.time() - 100)
    response = send(client, form, "page", {"email": "not-an-address"}, token=token)
    assert response.status_code == 400
    assert f'value="{token}"'.encode() in response.content


def test_the_builder_refuses_the_spam_fields_as_keys(client, form):
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.post(
        reverse("capture:field_new", args=[form.pk]),
        {"label": "Website", "key": HONEYPOT_FIELD, "kind": "text"},
    )
    assert response.status_code == 400
    assert b"kept for the spam defence" in response.content


def test_stop_phrases_are_edited_in_the_form_settings(client, form):
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    page = client.get(reverse("capture:form_edit", args=[form.pk]))
    data = {**page.context["bound"].initial, "stop_phrases": "crypto\n  Backlinks  \n\ncrypto"}
    data = {key: value for key, value in data.items() if value is not None}
    data["allowed_origins"] = ""
    response = client.post(reverse("capture:form_edit", args=[form.pk]), data)
    assert response.status_code == 302, response.content
    form.refresh_from_db()
    assert form.stop_phrases == ["crypto", "Backlinks"]


# The checks themselves, without a request.


def test_subdomains_of_a_disposable_domain_are_disposable_too():
    assert is_disposable("mailinator.com")
    assert is_disposable("eu.mailinator.com")
    assert not is_disposable("acme.example")
    assert not is_disposable("com")


def test_a_token_from_the_future_is_not_too_fast(min_fill):
    form = Form(pk=7, stop_phrases=[])
    token = render_token(form, at=1_000_000.0)
    signals = Signals(token=token)
    assert spam_findings(form=form, cleaned={}, signals=signals, now=999_999.0) == []
    assert spam_findings(form=form, cleaned={}, signals=signals, now=1_000_001.0)


def test_stop_phrases_look_in_lists_and_ignore_blank_phrases():
    form = Form(pk=7, stop_phrases=["  ", "casino"])
    cleaned = {"interest": ["Reselling", "Online CASINO"], "company_size": 80}
    (finding,) = spam_findings(form=form, cleaned=cleaned, signals=Signals())
    assert finding.reason == Reason.STOP_PHRASE
    assert spam_findings(form=form, cleaned={"company": "Acme"}, signals=Signals()) == []


def test_a_post_to_the_hosted_page_without_its_token_is_held(client, form, min_fill):
    success(send(client, form, "page", PERSON), "page", form)
    post = assert_held("page", form, Reason.MISSING_TOKEN)
    assert post.details == ["The form's render token was not sent."]


def test_without_a_minimum_fill_time_the_page_needs_no_token(client, form, settings):
    settings.SPAM_MIN_FILL_SECONDS = 0
    success(send(client, form, "page", PERSON), "page", form)
    assert Lead.objects.exists()


@pytest.mark.parametrize("kind", ["page", "embed"])
def test_a_token_older_than_its_maximum_age_is_held(client, form, min_fill, settings, kind):
    settings.SPAM_TOKEN_MAX_AGE_SECONDS = 3600
    token = render_token(form, at=time.time() - 3700)
    success(send(client, form, kind, PERSON, token=token), kind, form)
    post = assert_held(kind, form, Reason.STALE_TOKEN)
    assert post.details == ["Sent 1.0 h after the form was shown."]


def test_a_token_within_its_maximum_age_still_passes(client, form, min_fill, settings):
    settings.SPAM_TOKEN_MAX_AGE_SECONDS = 3600
    token = render_token(form, at=time.time() - 3500)
    success(send(client, form, "page", PERSON, token=token), "page", form)
    assert Lead.objects.exists()
