import re

import pytest
from django.urls import reverse

from leads.models import LeadEvent, RejectionReason, Stage, Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP)


@pytest.fixture
def routed(rep):
    return LeadFactory(stage=Stage.ROUTED, owner=rep, company="Acme")


def test_rep_sees_only_their_own_leads(client, rep, routed):
    LeadFactory(stage=Stage.ROUTED, owner=UserFactory(role=Role.SALES_REP), email="x@other.example")
    client.force_login(rep)
    response = client.get(reverse("inbox:list"))
    assert list(response.context["page"].object_list) == [routed]
    assert b"x@other.example" not in response.content


def test_rep_cannot_open_another_reps_lead(client, routed):
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.get(routed.get_absolute_url()).status_code == 404
    assert client.post(reverse("inbox:accept", args=[routed.pk])).status_code == 404
    assert client.get(reverse("inbox:reject", args=[routed.pk])).status_code == 404
    routed.refresh_from_db()
    assert routed.stage == Stage.ROUTED


def test_manager_sees_every_lead_but_cannot_work_a_reps_lead(client, routed):
    manager = UserFactory(role=Role.SALES_MANAGER)
    client.force_login(manager)
    assert client.get(routed.get_absolute_url()).status_code == 200
    assert client.post(reverse("inbox:accept", args=[routed.pk])).status_code == 403
    routed.refresh_from_db()
    assert routed.stage == Stage.ROUTED


def test_anonymous_visitor_is_sent_to_log_in(client, routed):
    response = client.get(routed.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_rep_accepts_a_routed_lead(client, rep, routed):
    client.force_login(rep)
    response = client.post(reverse("inbox:accept", args=[routed.pk]), follow=True)
    assert b"You accepted" in response.content
    routed.refresh_from_db()
    assert routed.stage == Stage.ACCEPTED
    assert routed.first_action_at is not None
    event = routed.events.get()
    assert (event.from_stage, event.to_stage, event.actor) == (Stage.ROUTED, Stage.ACCEPTED, rep)


def test_accepting_twice_changes_nothing_and_says_so(client, rep, routed):
    client.force_login(rep)
    client.post(reverse("inbox:accept", args=[routed.pk]))
    response = client.post(reverse("inbox:accept", args=[routed.pk]))
    assert response.status_code == 409
    assert f"{routed} is already accepted. Nothing changed." in response.content.decode()
    assert routed.events.count() == 1


def test_accept_needs_a_post(client, rep, routed):
    client.force_login(rep)
    assert client.get(reverse("inbox:accept", args=[routed.pk])).status_code == 405


def test_reject_asks_for_a_reason_first(client, rep, routed):
    client.force_login(rep)
    page = client.get(reverse("inbox:reject", args=[routed.pk]))
    assert page.status_code == 200
    assert b"Why are you rejecting it?" in page.content
    response = client.post(reverse("inbox:reject", args=[routed.pk]), {"reject-reason": ""})
    assert response.status_code == 400
    routed.refresh_from_db()
    assert routed.stage == Stage.ROUTED


def test_reject_with_reason_records_it_for_marketing(client, rep, routed):
    client.force_login(rep)
    response = client.post(
        reverse("inbox:reject", args=[routed.pk]),
        {"reject-reason": RejectionReason.NO_BUDGET, "reject-note": "Freeze until March."},
    )
    assert response.status_code == 302
    event = LeadEvent.objects.get(lead=routed, kind=LeadEvent.Kind.STAGE_CHANGED)
    assert event.to_stage == Stage.REJECTED
    assert event.reason_code == RejectionReason.NO_BUDGET
    assert event.actor == rep
    assert event.reason == f"{rep} rejected the lead: No budget. Freeze until March."


def test_other_reason_needs_a_note(client, rep, routed):
    client.force_login(rep)
    response = client.post(reverse("inbox:reject", args=[routed.pk]), {"reject-reason": "other"})
    assert response.status_code == 400
    assert b"Say what the other reason is." in response.content


def test_search_and_stage_filter(client, rep, routed):
    LeadFactory(stage=Stage.ACCEPTED, owner=rep, company="Globex")
    client.force_login(rep)
    found = client.get(reverse("inbox:list"), {"q": "glob"}).context["page"].object_list
    assert [lead.company for lead in found] == ["Globex"]
    routed_only = client.get(reverse("inbox:list"), {"stage": "routed"}).context["page"]
    assert list(routed_only.object_list) == [routed]


def test_empty_inbox_says_so(client, rep):
    client.force_login(rep)
    assert b"Your inbox is empty." in client.get(reverse("inbox:list")).content


def test_lead_page_shows_attributes_under_the_form_labels(client, rep):
    form = FormFactory()
    lead = LeadFactory(stage=Stage.ROUTED, owner=rep, source_form=form)
    lead.attributes = {"email": lead.email, "company_size": 80, "consent": True}
    lead.save(update_fields=["attributes"])
    Submission.objects.create(form=form, lead=lead, payload={})
    client.force_login(rep)
    assert client.get(lead.get_absolute_url()).context["details"] == [
        ("Work e-mail", lead.email),
        ("Employees", 80),
        ("Consent", "Yes"),
    ]


def test_pages_of_a_filtered_list_keep_the_filter_and_the_search(client, rep):
    LeadFactory.create_batch(30, stage=Stage.ROUTED, owner=rep, company="Acme & Co")
    client.force_login(rep)
    html = client.get(reverse("inbox:list"), {"stage": "routed", "q": "acme & co"}).content.decode()
    assert "Page 1 of 2" in html
    assert 'href="?tab=needs_action&amp;stage=routed&amp;q=acme+%26+co&amp;page=2"' in html
    second = client.get(reverse("inbox:list"), {"page": 2, "stage": "routed", "q": "acme & co"})
    assert len(second.context["page"].object_list) == 5
    assert 'href="?tab=needs_action&amp;stage=routed&amp;q=acme+%26+co&amp;page=1"' in (
        second.content.decode()
    )


def _widths(response) -> tuple[str, str]:
    """The classes of the top bar's box and of the page's main box."""
    html = response.content.decode()
    bar = re.search(r'<nav class="navbar[^>]*>\s*<div class="([^"]+)">', html)
    main = re.search(r'<main id="main" class="([^"]+)">', html)
    return bar.group(1), main.group(1)


def test_the_list_takes_the_wide_box_for_its_table_and_a_lead_page_the_usual_one(
    client, rep, routed
):
    client.force_login(rep)
    assert _widths(client.get(reverse("inbox:list"))) == ("container-xxl", "container-xxl py-4")
    assert _widths(client.get(routed.get_absolute_url())) == ("container", "container py-4")
