"""Service levels in the sales team's working hours, and the forms a draft judges, as the
managers set them in the editor and everyone reads them on the pages."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from leads.capture.services import Provenance, lead_capture
from leads.clock import CLOCK_FIELDS, clocks_start
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from portal.errors import DomainError
from scoring.models import AgreementScope
from scoring.services import agreement_draft_new, agreement_terms_set, submission_qualify
from tests.factories import AgreementFactory, FormFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def draft():
    FormFactory(name="Webinar")
    return agreement_draft_new(by=UserFactory(role=Role.MARKETING_MANAGER))


def logged_in(client, role):
    user = UserFactory(role=role)
    client.force_login(user)
    return user


def text(response) -> str:
    """The page as words, its tags left out."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def terms(**changes) -> dict:
    data = {
        "terms-summary": "",
        "terms-threshold": 0,
        "terms-accept_within_minutes": 240,
        "terms-contact_within_hours": 24,
        "terms-business_days": ["0", "1", "2", "3", "4"],
        "terms-business_opens": "08:30",
        "terms-business_closes": "17:30",
        "terms-time_zone": "Europe/Berlin",
    }
    data.update({f"terms-{name}": value for name, value in changes.items()})
    return data


def test_the_editor_saves_working_hours_and_the_version_page_shows_them(client, draft):
    logged_in(client, Role.SALES_MANAGER)
    edit = reverse("scoring:edit", kwargs={"version": draft.version})

    assert client.post(edit, terms()).status_code == 302

    draft.refresh_from_db()
    assert (draft.business_days, draft.time_zone) == ([0, 1, 2, 3, 4], "Europe/Berlin")
    assert (draft.business_opens, draft.business_closes) == (
        datetime.time(8, 30),
        datetime.time(17, 30),
    )
    page = text(client.get(draft.get_absolute_url()))
    assert "Mon to Fri, 08:30 to 17:30 (Europe/Berlin)" in page
    assert "4 hours of working time" in page
    assert "24 hours of working time" in page  # first contact: in hours, as agreed
    editor = text(client.get(edit))
    assert "First contact within (hours)" in editor


def test_the_editor_saves_days_off_and_the_version_page_shows_them(client, draft):
    logged_in(client, Role.SALES_MANAGER)
    edit = reverse("scoring:edit", kwargs={"version": draft.version})

    days_off = "2026-12-25, 2026-12-24\n2027-01-01"
    assert client.post(edit, terms(holidays=days_off)).status_code == 302

    draft.refresh_from_db()
    assert draft.holidays == ["2026-12-24", "2026-12-25", "2027-01-01"]
    assert datetime.date(2026, 12, 25) in draft.business_hours().holidays
    page = text(client.get(draft.get_absolute_url()))
    assert "closed on Thu 24 Dec 2026, Fri 25 Dec 2026, Fri 01 Jan 2027" in page
    assert "2026-12-24\n2026-12-25\n2027-01-01" in client.get(edit).content.decode()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"holidays": "2026-12-25, Christmas"}, "holidays", "“Christmas” is not a date"),
        ({"time_zone": "Europe/Atlantis"}, "time_zone", "is not a time zone"),
        ({"business_closes": "08:00"}, "business_closes", "must close after it opens"),
        ({"business_days": []}, "business_days", "at least one working day"),
    ],
)
def test_working_hours_that_cannot_be_are_refused_on_their_field(
    client, draft, change, field, message
):
    logged_in(client, Role.MARKETING_MANAGER)
    edit = reverse("scoring:edit", kwargs={"version": draft.version})

    response = client.post(edit, terms(**change))

    assert response.status_code == 400
    assert message in response.context["terms"].errors[field][0]
    draft.refresh_from_db()
    assert draft.time_zone == "UTC"


def test_the_editor_lists_forms_to_choose_and_says_which_have_no_agreement(client, draft):
    other = FormFactory(name="Demo request")
    logged_in(client, Role.MARKETING_MANAGER)
    editor = text(client.get(reverse("scoring:edit", kwargs={"version": draft.version})))
    assert "No active agreement judges: Demo request, Webinar." in editor

    saved = client.post(
        reverse("scoring:forms", kwargs={"version": draft.version}), {"scope-form_ids": [other.pk]}
    )

    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.form_ids == [other.pk]
    assert "Forms it judges Demo request" in text(client.get(draft.get_absolute_url()))


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER])
@pytest.mark.parametrize("name", ["forms", "rebase"])
def test_a_rep_or_a_marketer_cannot_change_the_forms_or_re_base(client, draft, role, name):
    logged_in(client, role)
    response = client.post(reverse(f"scoring:{name}", kwargs={"version": draft.version}), {})
    assert response.status_code == 403


def berlin_lead_page(client, *, stage, since, **terms) -> str:
    """The lead page, as a sales manager reads it, of a lead in `stage` since `since`,
    judged by an agreement working 09:00 to 17:00 in Berlin with `terms`."""
    agreement = AgreementFactory(
        time_zone="Europe/Berlin",
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        **terms,
    )
    submission = lead_capture(
        form=FormFactory(),
        payload={"email": "ana@acme.example", "company_size": "80"},
        cleaned={"email": "ana@acme.example", "company_size": 80},
        provenance=Provenance(),
    )
    submission_qualify(submission_id=submission.pk)
    lead = Lead.objects.get(pk=submission.lead_id)
    lead.stage, lead.stage_changed_at = stage, since
    clocks_start([lead], at=since)  # as the move into `stage` stores it
    lead.save(update_fields=["stage", "stage_changed_at", *CLOCK_FIELDS])
    assert submission.lead.qualifications.get().agreement == agreement

    logged_in(client, Role.SALES_MANAGER)
    return text(client.get(submission.lead.get_absolute_url()))


def test_the_lead_page_says_when_a_routed_lead_is_due_in_working_time(client):
    friday_evening = datetime.datetime(2026, 11, 27, 18, 30, tzinfo=BERLIN)
    page = berlin_lead_page(
        client, stage=Stage.ROUTED, since=friday_evening, accept_within_minutes=240
    )

    assert "Accept or reject by Mon Nov 30, 13:00 CET" in page
    assert "240 minutes of working time: Mon to Fri, 09:00 to 17:00 (Europe/Berlin)" in page


def test_the_lead_page_says_when_an_accepted_lead_is_due_for_first_contact_in_working_hours(
    client,
):
    friday_afternoon = datetime.datetime(2026, 11, 27, 15, 30, tzinfo=BERLIN)
    page = berlin_lead_page(
        client, stage=Stage.ACCEPTED, since=friday_afternoon, contact_within_hours=3
    )

    # 1 h 30 on Friday, the other 1 h 30 from Monday's opening.
    assert "First contact by Mon Nov 30, 10:30 CET" in page
    assert "3 hours of working time: Mon to Fri, 09:00 to 17:00 (Europe/Berlin)" in page


def test_the_agreement_page_lists_each_scope_with_its_forms(client):
    webinar = FormFactory(name="Webinar")
    main = AgreementFactory(version=1)
    product_b = AgreementFactory(
        version=2, scope=AgreementScope.objects.create(name="Product B"), form_ids=[webinar.pk]
    )
    assert (main.scope.name, product_b.scope.name) == ("Main agreement", "Product B")
    logged_in(client, Role.SALES_REP)

    page = text(client.get(reverse("scoring:agreement")))

    assert "Main agreement v1 Every form no other active version lists" in page
    assert "Product B v2 Webinar" in page
    assert "Every form is judged by exactly one active agreement." in page


def test_the_service_refuses_working_hours_the_form_did_not_check(draft):
    manager = UserFactory(role=Role.MARKETING_MANAGER)
    terms = {"summary": "", "threshold": 0, "accept_within_minutes": 60}
    with pytest.raises(DomainError, match="not a time zone") as refused:
        agreement_terms_set(
            agreement=draft, by=manager, contact_within_hours=1, time_zone="Moon/Base", **terms
        )
    assert refused.value.field == "time_zone"
    saved = agreement_terms_set(
        agreement=draft, by=manager, contact_within_hours=3, business_days=[6, 5], **terms
    )
    assert (saved.business_days, saved.time_zone, saved.contact_within_hours) == (
        [5, 6],
        "UTC",
        3,
    )


def test_a_manager_drafts_the_next_version_of_either_scope_from_the_agreement_page(client):
    main = AgreementFactory(version=1)
    AgreementFactory(version=2, scope=AgreementScope.objects.create(name="Product B"))
    logged_in(client, Role.SALES_MANAGER)
    page = client.get(reverse("scoring:agreement")).content.decode()
    # The accessible name starts with the visible text, so "New draft from v1" said aloud
    # finds the button (WCAG 2.5.3, label in name); the scope tells the two apart.
    assert 'aria-label="New draft from v1 (Main agreement)">New draft from v1</button>' in page

    client.post(reverse("scoring:new"), {"source": main.version})

    draft = AgreementScope.objects.get(name="Main agreement").versions.get(version=3)
    assert (draft.status, draft.based_on) == ("draft", main)
