"""A known person sending a form again: the lead is updated, the submission kept, a LeadEvent
says so, and a rep who already has the lead is told until they have seen it. Plus addresses
fold onto one lead when LEADBRIDGE_FOLD_PLUS_ADDRESSES is on (off by default)."""

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from leads.capture.services import normalise_email
from leads.models import Lead, LeadEvent, RepeatSubmissionNotice, Stage, Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def form():
    return FormFactory(name="Webinar")


def send(client, form, **data):
    response = client.post(reverse("capture:form", kwargs={"slug": form.slug}), data)
    assert response.status_code == 302, response.content


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP)


@pytest.fixture
def owned(client, form, rep):
    send(client, form, email="ana@acme.example", company="Acme")
    Lead.objects.filter(email="ana@acme.example").update(stage=Stage.ACCEPTED, owner=rep)
    return Lead.objects.get()


def test_plus_folding_is_off_by_default():
    assert settings.LEADBRIDGE_FOLD_PLUS_ADDRESSES is False
    assert normalise_email(" Ann+Promo@X.com ") == "ann+promo@x.com"


@pytest.mark.parametrize(
    ("given", "known_as"),
    [
        ("Ann+promo@X.com", "ann@x.com"),
        ("ann+a+b@x.com", "ann@x.com"),
        ("ann@x.com", "ann@x.com"),
        ("+promo@x.com", "+promo@x.com"),  # nothing before the tag: kept whole
    ],
)
def test_plus_folding_when_switched_on(given, known_as):
    with override_settings(LEADBRIDGE_FOLD_PLUS_ADDRESSES=True):
        assert normalise_email(given) == known_as


@override_settings(LEADBRIDGE_FOLD_PLUS_ADDRESSES=True)
def test_folded_addresses_are_one_lead_that_keeps_the_address_as_written(client, form):
    send(client, form, email="ann@x.com")
    send(client, form, email="Ann+promo@x.com", company="Acme")
    lead = Lead.objects.get()
    assert lead.email == "ann@x.com"
    assert lead.attributes["email"] == "ann+promo@x.com"
    assert lead.company == "Acme"
    assert lead.submissions.count() == 2


def test_without_folding_plus_addresses_are_two_leads(client, form):
    send(client, form, email="ann@x.com")
    send(client, form, email="ann+promo@x.com")
    assert sorted(Lead.objects.values_list("email", flat=True)) == ["ann+promo@x.com", "ann@x.com"]


def test_a_repeat_updates_the_lead_keeps_both_submissions_and_records_an_event(client, form):
    send(client, form, email="ana@acme.example", company="Acme")
    send(client, form, email="ANA@acme.example", company="Acme Ltda", country="Brazil")
    lead = Lead.objects.get()
    assert (lead.company, lead.attributes["country"]) == (
        "Acme Ltda",
        "BR",
    )  # countries are kept as ISO codes
    assert Submission.objects.filter(lead=lead).count() == 2
    received = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.SUBMISSION_RECEIVED)
    assert [event.data["created"] for event in received] == [True, False]
    assert received.last().reason == "Submitted again: the form Webinar."
    # Nobody has the lead yet: nobody to tell.
    assert not RepeatSubmissionNotice.objects.exists()


def test_a_repeat_of_a_lead_with_a_rep_leaves_a_notice(client, form, owned):
    send(client, form, email="ana@acme.example")
    notice = RepeatSubmissionNotice.objects.get()
    assert notice.lead == owned
    assert notice.submission == Submission.objects.latest("received_at")
    assert notice.seen_at is None
    assert Lead.objects.get().stage == Stage.ACCEPTED  # the repeat moves no stage


def test_the_owner_sees_the_notice_and_the_inbox_marker_until_seen(client, form, owned, rep):
    send(client, form, email="ana@acme.example")
    client.force_login(rep)
    page = client.get(owned.get_absolute_url()).content.decode()
    assert 'id="repeat-notice"' in page
    assert "Submitted again on" in page and "via Webinar v1" in page
    assert "submitted-again" in client.get(reverse("inbox:list")).content.decode()

    response = client.post(reverse("inbox:repeats_seen", args=[owned.pk]))
    assert response["Location"] == owned.get_absolute_url()
    notice = RepeatSubmissionNotice.objects.get()
    assert (notice.seen_by, notice.seen_at is not None) == (rep, True)
    assert 'id="repeat-notice"' not in client.get(owned.get_absolute_url()).content.decode()
    assert "submitted-again" not in client.get(reverse("inbox:list")).content.decode()


def test_a_new_repeat_after_seeing_shows_again(client, form, owned, rep):
    send(client, form, email="ana@acme.example")
    client.force_login(rep)
    client.post(reverse("inbox:repeats_seen", args=[owned.pk]))
    send(client, form, email="ana@acme.example")
    assert "submitted-again" in client.get(reverse("inbox:list")).content.decode()


def test_only_the_owner_may_mark_it_seen(client, form, owned):
    send(client, form, email="ana@acme.example")
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.post(reverse("inbox:repeats_seen", args=[owned.pk])).status_code == 404
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    assert client.post(reverse("inbox:repeats_seen", args=[owned.pk])).status_code == 403
    assert RepeatSubmissionNotice.objects.get().seen_at is None


def test_the_rep_sees_the_campaign_brief_and_the_version_the_lead_came_from(client, rep):
    form = FormFactory(name="Webinar", campaign="Spring", campaign_brief="Teams of 50+.")
    send(client, form, email="bo@acme.example")
    lead = Lead.objects.get()
    Lead.objects.filter(pk=lead.pk).update(owner=rep, stage=Stage.ROUTED)
    client.force_login(rep)
    response = client.get(lead.get_absolute_url())
    html = response.content.decode()
    assert "Campaign: Spring" in html
    assert 'id="brief-text">Teams of 50+.</p>' in html
    assert "Came through <strong>Webinar</strong> v1" in html
