"""A recycled lead comes back on its return day, in the sales team's time zone: judged again
by the active agreement, routed if it qualifies, kept in nurture (and said so) if not."""

import datetime

import pytest

from leads.capture.services import Provenance, lead_capture
from leads.handoff import tasks as handoff
from leads.models import Lead, LeadEvent, Stage
from portal.accounts.roles import Role
from scoring.clocks import leads_back_from_nurture
from scoring.services import submission_qualify
from tests.factories import AgreementFactory, FormFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db
RETURN_DAY = datetime.date(2026, 12, 1)


def recycled(email: str, size: int) -> Lead:
    """A lead judged (company size at least 50 is mandatory), then sent to nurture."""
    submission = lead_capture(
        form=FormFactory(),
        payload={"email": email, "company_size": str(size)},
        cleaned={"email": email, "company_size": size},
        provenance=Provenance(),
    )
    submission_qualify(submission_id=submission.pk)
    Lead.objects.filter(pk=submission.lead_id).update(
        stage=Stage.RECYCLED, nurture_until=RETURN_DAY
    )
    return Lead.objects.get(pk=submission.lead_id)


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=datetime.UTC)


@pytest.fixture
def berlin():
    return AgreementFactory(time_zone="Europe/Berlin")


def test_the_return_day_is_the_sales_teams_not_utcs(berlin):
    lead = recycled("ana@acme.example", 80)

    assert leads_back_from_nurture(limit=10, now=utc(2026, 11, 30, 22, 30)) == 0  # 23:30 Berlin
    assert Lead.objects.get(pk=lead.pk).stage == Stage.RECYCLED
    assert leads_back_from_nurture(limit=10, now=utc(2026, 11, 30, 23, 30)) == 1  # 00:30 Berlin


def test_the_return_day_is_that_of_the_queues_own_time_zone_when_it_sets_one(berlin):
    lead = recycled("ana@acme.example", 80)
    queue = queue_with_reps(
        UserFactory(role=Role.SALES_REP),
        business_days=[0, 1, 2, 3, 4],
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        time_zone="America/New_York",
    )
    Lead.objects.filter(pk=lead.pk).update(queue=queue)

    assert leads_back_from_nurture(limit=10, now=utc(2026, 12, 1, 4, 30)) == 0  # 23:30 New York
    assert leads_back_from_nurture(limit=10, now=utc(2026, 12, 1, 5, 30)) == 1  # 00:30 New York


def test_a_lead_that_qualifies_comes_back_and_is_routed(berlin):
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)
    lead = recycled("ana@acme.example", 80)

    leads_back_from_nurture(limit=10, now=utc(2026, 12, 1, 9))
    assert Lead.objects.get(pk=lead.pk).stage == Stage.QUALIFIED
    handoff.hand_off()  # woken after the commit (the tests' transaction never commits)

    lead.refresh_from_db()
    assert (lead.stage, lead.owner, lead.nurture_until) == (Stage.ROUTED, rep, None)
    back = lead.events.get(kind=LeadEvent.Kind.BACK_FROM_NURTURE)
    assert back.data == {"nurture_until": "2026-12-01", "qualified": True}
    assert "qualifies again" in back.reason
    moved = lead.events.get(from_stage=Stage.RECYCLED, to_stage=Stage.QUALIFIED)
    assert "judged again on its return from nurture" in moved.reason
    assert lead.due_step == "accept" and lead.due_at is not None


def test_a_lead_that_still_does_not_qualify_stays_in_nurture_and_is_not_judged_again(berlin):
    lead = recycled("bo@acme.example", 10)

    leads_back_from_nurture(limit=10, now=utc(2026, 12, 1, 9))
    assert leads_back_from_nurture(limit=10, now=utc(2026, 12, 2, 9)) == 0

    lead.refresh_from_db()
    assert (lead.stage, lead.nurture_until) == (Stage.RECYCLED, None)
    back = lead.events.get(kind=LeadEvent.Kind.BACK_FROM_NURTURE)
    assert back.data["qualified"] is False and "stays in nurture" in back.reason
