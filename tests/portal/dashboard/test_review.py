import csv
import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from leads.models import Stage
from portal.accounts.roles import Role
from portal.dashboard.models import HandoffReview
from portal.dashboard.services import NOTES_MAX_LENGTH, review_freeze, review_scheduled_freeze
from portal.dashboard.tasks import freeze_review
from portal.notifications.models import Kind, Notification
from scoring.models import Agreement, QualificationFlag
from tests.factories import AgreementFactory, LeadFactory, UserFactory
from tests.portal.dashboard.helpers import WAY, lead_imported_as, lead_through, submitted

pytestmark = pytest.mark.django_db


def _leads():
    submitted(lead_through(*WAY), utm_source="ads")
    lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.REJECTED, reason_code="duplicate")
    lead_imported_as(Stage.WON, days_ago=3)


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_a_review_freezes_the_last_two_weeks_once():
    _leads()
    review = review_freeze()
    assert (review.until, review.since) == (
        timezone.localdate() - timedelta(days=1),
        timezone.localdate() - timedelta(days=14),
    )
    assert review.panel("funnel")["rows"][0] == ["Captured", 1, None]  # the imported lead
    assert review_freeze() == review
    assert HandoffReview.objects.count() == 1


def test_a_review_does_not_change_when_leads_do():
    _leads()
    review = review_freeze(until=timezone.localdate())
    before = review.panel("funnel")["rows"]
    lead_through(Stage.QUALIFIED)
    review.refresh_from_db()
    assert review.panel("funnel")["rows"] == before
    assert review_freeze(until=timezone.localdate()).panel("funnel")["rows"] == before


def test_each_side_writes_only_its_own_notes(client):
    review = review_freeze()
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    saved = client.post(review.get_absolute_url(), {"side": "marketing", "text": "More webinars."})
    assert saved.status_code == 302
    assert client.post(review.get_absolute_url(), {"side": "sales", "text": "x"}).status_code == 403
    client.force_login(UserFactory(role=Role.SALES_REP))
    assert client.post(review.get_absolute_url(), {"side": "sales", "text": "x"}).status_code == 403
    review.refresh_from_db()
    assert (review.marketing_notes, review.sales_notes) == ("More webinars.", "")


def test_notes_too_long_are_refused_saying_why(client):
    review = review_freeze()
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    text = "x" * (NOTES_MAX_LENGTH + 1)
    response = client.post(review.get_absolute_url(), {"side": "sales", "text": text})
    assert response.status_code == 400
    assert f"Keep it to {NOTES_MAX_LENGTH} characters" in response.content.decode()
    review.refresh_from_db()
    assert review.sales_notes == ""


def test_the_command_freezes_the_period_it_is_given(capsys):
    call_command("freeze_handoff_review", "--until", "2026-01-14")
    review = HandoffReview.objects.get()
    assert (review.since.isoformat(), review.until.isoformat()) == ("2026-01-01", "2026-01-14")
    assert review.get_absolute_url() in capsys.readouterr().out


def test_the_list_links_every_review(client):
    first = review_freeze(until=timezone.localdate() - timedelta(days=15))
    second = review_freeze()
    client.force_login(UserFactory(role=Role.SALES_REP))
    html = client.get(reverse("review_list")).content.decode()
    assert first.get_absolute_url() in html and second.get_absolute_url() in html


# The schedule: beat's entry, the managers' day and time, every other week.


def test_beat_runs_the_review_on_the_day_and_time_a_manager_sets(client):
    entry = PeriodicTask.objects.get(name="handoff-review")
    assert entry.task == freeze_review.name and entry.enabled
    cron = entry.crontab
    assert (cron.day_of_week, cron.hour, cron.minute) == ("1", "8", "0")  # Mondays, 08:00
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    assert "Mondays at 08:00" in client.get(reverse("review_list")).content.decode()
    response = client.post(reverse("review_list"), {"weekday": 3, "at": "15:30"})
    assert response.status_code == 302
    cron = PeriodicTask.objects.get(name="handoff-review").crontab
    assert (cron.day_of_week, cron.hour, cron.minute) == ("4", "15", "30")  # cron: 4 Thursday
    assert "Thursdays at 15:30" in client.get(reverse("review_list")).content.decode()


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER])
def test_only_a_manager_sets_the_reviews_time(client, role):
    client.force_login(UserFactory(role=role))
    assert 'name="weekday"' not in client.get(reverse("review_list")).content.decode()
    assert client.post(reverse("review_list"), {"weekday": 3, "at": "15:30"}).status_code == 403
    assert PeriodicTask.objects.get(name="handoff-review").crontab.day_of_week == "1"


def test_a_bad_time_is_refused_saying_which_field(client):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    response = client.post(reverse("review_list"), {"weekday": 9, "at": "25:99"})
    assert response.status_code == 400
    assert "Day:" in response.content.decode() and "Time:" in response.content.decode()


def test_the_weekly_run_freezes_every_other_week():
    monday = date(2026, 3, 2)
    first = review_scheduled_freeze(today=monday)
    assert (first.since, first.until) == (date(2026, 2, 16), date(2026, 3, 1))
    assert review_scheduled_freeze(today=monday + timedelta(days=7)) is None
    second = review_scheduled_freeze(today=monday + timedelta(days=14))
    assert (second.since, second.until) == (date(2026, 3, 2), date(2026, 3, 15))
    assert HandoffReview.objects.count() == 2


def test_the_beat_task_freezes_once_and_then_waits(time_machine):
    time_machine.move_to("2026-03-02 08:00:00Z")
    made = freeze_review.apply().get()
    assert HandoffReview.objects.get().pk == made
    assert freeze_review.apply().get() is None
    assert HandoffReview.objects.count() == 1


# Who is told.


def test_a_new_review_emails_both_managers_and_the_marketers_after_commit(
    mailoutbox, django_capture_on_commit_callbacks
):
    told = [
        UserFactory(role=role, email=f"{role.name.lower()}@acme.example")
        for role in (Role.SALES_MANAGER, Role.MARKETING_MANAGER, Role.MARKETER)
    ]
    UserFactory(role=Role.SALES_REP, email="rep@acme.example")
    with django_capture_on_commit_callbacks(execute=True) as queued:
        review = review_freeze()
    assert queued, "the e-mails are queued after the commit, not sent inside it"
    assert sorted(address for mail in mailoutbox for address in mail.to) == sorted(
        user.email for user in told
    )
    assert all(review.get_absolute_url() in mail.body for mail in mailoutbox)
    notified = Notification.objects.filter(kind=Kind.HANDOFF_REVIEW)
    assert set(notified.values_list("recipient", flat=True)) == {user.pk for user in told}
    with django_capture_on_commit_callbacks(execute=True):
        review_freeze()  # the same period again: nobody is told twice
    assert notified.count() == 3


def test_opening_or_noting_a_review_sends_no_email(client, mailoutbox):
    review = review_freeze()
    mailoutbox.clear()
    client.force_login(UserFactory(role=Role.SALES_MANAGER, email="s@acme.example"))
    client.get(review.get_absolute_url())
    client.post(review.get_absolute_url(), {"side": "sales", "text": "Fine."})
    assert not mailoutbox


# What a review keeps beside the dashboard's panels.


@pytest.fixture
def agreement_side():
    """In the review's period: the active v1 (company size >= 50), 2 flags on it and 1 "none
    fits"; 40 leads of 100 people imported as won, in the period (decided: imported), and a
    rep's accept of one of 10 people; v2 proposed, signed by marketing only."""
    active = AgreementFactory()
    criterion = active.criteria.get()
    rep = UserFactory(role=Role.SALES_REP)
    for pointing in (criterion, criterion, None):
        QualificationFlag.objects.create(
            lead=LeadFactory(), agreement=active, criterion=pointing, comment="x", flagged_by=rep
        )
    for _ in range(40):
        lead_imported_as(Stage.WON, days_ago=6, attributes={"company_size": "100"})
    lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.ACCEPTED, attributes={"company_size": "10"})
    marketing = UserFactory(role=Role.MARKETING_MANAGER)
    proposed = AgreementFactory(activated_at=None)
    Agreement.objects.filter(pk=proposed.pk).update(  # proposed: it no longer takes criteria
        proposed_at=timezone.now(),
        proposed_by=marketing,
        marketing_signed_by=marketing,
        marketing_signed_at=timezone.now(),
    )
    return active


def test_a_review_keeps_flags_effectiveness_threshold_advice_and_proposals(agreement_side):
    v = agreement_side.version
    review = review_freeze(until=timezone.localdate())
    assert review.panel("flags")["rows"] == [[v, "Company size", 2], [v, "None fits", 1]]
    (effect,) = review.panel("effectiveness")["rows"]
    # passed: 40 decided, 40 imported, 100 % accepted, 100 % won; failed: the rep's 1 accept
    assert effect == [v, "Company size", "mandatory", 40, 40, 100.0, 100.0, 1, 0, 100.0, 0.0, 2]
    (advice,) = review.panel("threshold")["rows"]
    assert advice == [v, 0, 0, "Keep it", 40, 40, 41, 40]
    (proposal,) = review.panel("proposals")["rows"]
    assert proposal[0] == v + 1 and proposal[4:] == ["signed", "waiting"]


def test_the_review_page_shows_the_agreement_side_and_starts_a_draft_from_it(
    agreement_side, client
):
    review = review_freeze(until=timezone.localdate())
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    html = client.get(review.get_absolute_url()).content.decode()
    for panel in ("flags", "effectiveness", "threshold", "proposals"):
        assert f'data-panel="{panel}"' in html
    assert f'action="{reverse("scoring:new")}"' in html
    assert f"Propose a change to v{agreement_side.version}" in html
    response = client.post(reverse("scoring:new"), {"source": agreement_side.version})
    draft = Agreement.objects.order_by("-version").first()
    assert response.url == reverse("scoring:edit", kwargs={"version": draft.version})
    assert draft.status == "draft" and draft.scope_id == agreement_side.scope_id


def test_a_rep_reads_the_review_without_the_propose_button(agreement_side, client):
    review = review_freeze(until=timezone.localdate())
    client.force_login(UserFactory(role=Role.SALES_REP))
    html = client.get(review.get_absolute_url()).content.decode()
    assert 'data-panel="effectiveness"' in html
    assert "Propose a change" not in html


def test_a_review_frozen_before_the_newer_panels_still_opens(client):
    review = review_freeze()
    older = [panel for panel in review.panels if panel["key"] in ("funnel", "exits", "speed")]
    HandoffReview.objects.filter(pk=review.pk).update(panels=older)
    client.force_login(UserFactory(role=Role.MARKETER))
    response = client.get(review.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-panel="funnel"' in html and 'data-panel="fair-share"' not in html
