"""The escalation ladder: the clock stored at assignment, reminders and breaches at the right
moments, reassignment in turn, the manager at the end, and nothing outside working hours."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from leads.inbox.services import lead_accept
from leads.models import Lead, LeadEvent, Stage
from leads.routing.escalation import leads_escalate, leads_remind
from leads.routing.models import Assignment
from leads.routing.services import lead_route
from portal.accounts.roles import Role
from tests.factories import AgreementFactory, LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
Kind = LeadEvent.Kind


def at(*args, zone=BERLIN) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zone)


def berlin_agreement(**terms):
    return AgreementFactory(
        time_zone="Europe/Berlin",
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        **terms,
    )


def routed(when, **queue_fields):
    """A lead routed at `when` through a queue of three reps; (lead, reps, queue)."""
    reps = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue = queue_with_reps(*reps, **queue_fields)
    lead = LeadFactory(stage=Stage.QUALIFIED)
    with time_machine.travel(when, tick=False):
        lead_route(lead_id=lead.pk)
    lead.refresh_from_db()
    return lead, reps, queue


def run_ladder(when) -> None:
    with time_machine.travel(when, tick=False):
        leads_escalate(limit=100)
        leads_remind(limit=100)


def kinds(lead) -> list[str]:
    return list(lead.events.exclude(kind=Kind.STAGE_CHANGED).values_list("kind", flat=True))


def test_routing_stores_the_accept_clock_in_working_time_over_the_weekend():
    berlin_agreement(accept_within_minutes=240)
    lead, _, _ = routed(at(2026, 11, 27, 18, 30))  # Friday evening, after hours

    assert lead.due_step == "accept"
    assert lead.due_at == at(2026, 11, 30, 13, 0)  # Monday, four working hours in
    assert lead.remind_at == at(2026, 11, 30, 11, 0)  # half of the time
    assert lead.due_from == at(2026, 11, 27, 18, 30)


def test_the_clock_follows_the_teams_time_zone_across_a_daylight_saving_change():
    # Clocks go back in New York on Sunday 1 Nov 2026: 16 working hours from Friday 15:00
    # are Friday's 2 and Monday's 8 and Tuesday's 6, at New York's 09:00-17:00 either side.
    AgreementFactory(time_zone="America/New_York", accept_within_minutes=16 * 60)
    lead, _, _ = routed(at(2026, 10, 30, 15, 0, zone=NEW_YORK))

    assert lead.due_at == at(2026, 11, 3, 15, 0, zone=NEW_YORK)
    assert lead.due_at.astimezone(datetime.UTC).hour == 20  # EST, was EDT (19) on Friday


def test_the_clock_skips_the_agreements_holidays():
    berlin_agreement(accept_within_minutes=240, holidays=["2026-12-24", "2026-12-25"])
    lead, _, _ = routed(at(2026, 12, 23, 16, 0))  # Wednesday: 1 h, then Monday 28th
    assert lead.due_at == at(2026, 12, 28, 12, 0)


def test_a_queues_own_hours_keep_the_agreements_holidays():
    berlin_agreement(accept_within_minutes=240, holidays=["2026-12-24", "2026-12-25"])
    ny, _, _ = routed(
        at(2026, 12, 23, 16, 0, zone=NEW_YORK),
        business_days=[0, 1, 2, 3, 4],
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        time_zone="America/New_York",
    )
    assert ny.due_at == at(2026, 12, 28, 12, 0, zone=NEW_YORK)


def test_accepting_starts_the_contact_clock_and_contacting_stops_it():
    berlin_agreement(contact_within_hours=2)
    lead, reps, _ = routed(at(2026, 11, 30, 10, 0))
    with time_machine.travel(at(2026, 11, 30, 16, 0), tick=False):
        lead_accept(lead=lead, by=reps[0])
    lead.refresh_from_db()

    assert (lead.due_step, lead.due_at) == ("contact", at(2026, 12, 1, 10, 0))
    assert lead.escalations == 0


def test_the_rep_is_reminded_once_at_the_queues_share_of_the_time():
    berlin_agreement(accept_within_minutes=240)
    lead, reps, _ = routed(at(2026, 11, 30, 9, 0), remind_percent=25)

    run_ladder(at(2026, 11, 30, 9, 59))
    assert kinds(lead) == ["assigned"]
    run_ladder(at(2026, 11, 30, 10, 0))
    run_ladder(at(2026, 11, 30, 10, 30))

    assert kinds(lead) == ["assigned", "sla_reminder"]
    reminder = lead.events.get(kind=Kind.SLA_REMINDER)
    assert reminder.data["rep"] == reps[0].pk
    assert "by Mon Nov 30, 13:00 CET" in reminder.reason


def test_at_the_breach_the_next_rep_in_turn_gets_the_lead_and_the_whole_time_again():
    berlin_agreement(accept_within_minutes=60)
    manager = UserFactory(role=Role.SALES_MANAGER)
    lead, reps, queue = routed(at(2026, 11, 30, 9, 0), manager=manager)

    run_ladder(at(2026, 11, 30, 9, 59))
    assert Lead.objects.get(pk=lead.pk).owner == reps[0]
    run_ladder(at(2026, 11, 30, 10, 0))

    lead.refresh_from_db()
    breach = lead.events.get(kind=Kind.SLA_BREACHED)
    assert (breach.data["rep"], breach.data["manager"]) == (reps[0].pk, manager.pk)
    handed = lead.events.get(kind=Kind.REASSIGNED)
    assert handed.data["from_rep"] == reps[0].pk and handed.data["ladder"] is True
    assert "next in turn" in handed.reason
    assert lead.owner == reps[1] and lead.stage == Stage.ROUTED
    assert lead.due_at == at(2026, 11, 30, 11, 0) and lead.escalations == 1
    queue.refresh_from_db()
    assert queue.last_position == 1  # the reassignment was rep 1's turn; rep 0 keeps theirs


def test_the_next_rep_in_turn_must_have_room_today_under_the_queues_daily_cap():
    berlin_agreement(accept_within_minutes=60)
    lead, reps, queue = routed(at(2026, 11, 30, 9, 0), daily_cap_per_rep=1)
    # Rep 1, next in turn, already had their one lead of the day from this queue.
    Assignment.objects.create(
        lead=LeadFactory(), queue=queue, rep=reps[1], assigned_at=lead.due_from
    )

    run_ladder(at(2026, 11, 30, 10, 0))

    lead.refresh_from_db()
    assert lead.owner == reps[2]


def test_after_the_queues_reassignments_the_manager_takes_the_lead_and_the_clock_stops():
    berlin_agreement(accept_within_minutes=60)
    manager = UserFactory(role=Role.SALES_MANAGER)
    lead, reps, _ = routed(at(2026, 11, 30, 9, 0), manager=manager, max_reassignments=2)

    for hour in (10, 11, 12, 13):
        run_ladder(at(2026, 11, 30, hour, 0))

    lead.refresh_from_db()
    owners = [e.data["to_rep"] for e in lead.events.filter(kind=Kind.REASSIGNED)]
    assert owners == [reps[1].pk, reps[2].pk, manager.pk]
    assert lead.events.filter(kind=Kind.SLA_BREACHED).count() == 3
    assert lead.owner == manager and lead.due_at is None and lead.due_step == ""
    assert Assignment.objects.filter(lead=lead).count() == 4


def test_a_breach_with_no_other_rep_with_room_goes_to_the_manager_at_once():
    berlin_agreement(accept_within_minutes=60)
    manager = UserFactory(role=Role.SALES_MANAGER)
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep, manager=manager)
    lead = LeadFactory(stage=Stage.QUALIFIED)
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        lead_route(lead_id=lead.pk)

    run_ladder(at(2026, 11, 30, 10, 0))

    lead.refresh_from_db()
    assert lead.owner == manager
    assert "no other rep of the queue has room" in lead.events.get(kind=Kind.REASSIGNED).reason


def test_nothing_fires_outside_working_hours_unless_the_queue_says_so():
    berlin_agreement(accept_within_minutes=60)
    night_lead, _, first = routed(at(2026, 11, 30, 16, 30))  # due Tue 09:30
    first.is_active = False
    first.save(update_fields=["is_active"])
    anytime_lead, _, _ = routed(at(2026, 11, 30, 16, 30), escalate_off_hours=True)
    Lead.objects.update(due_at=at(2026, 11, 30, 17, 30))  # as if hours changed since

    run_ladder(at(2026, 11, 30, 18, 0))

    assert not night_lead.events.filter(kind=Kind.SLA_BREACHED).exists()
    assert anytime_lead.events.filter(kind=Kind.SLA_BREACHED).exists()
    run_ladder(at(2026, 12, 1, 9, 0))
    assert night_lead.events.filter(kind=Kind.SLA_BREACHED).exists()


def test_a_new_agreements_service_levels_count_the_running_clocks_again():
    from scoring.clocks import clocks_recount_batch, clocks_recount_run_create

    old = berlin_agreement(accept_within_minutes=240)
    lead, _, _ = routed(at(2026, 11, 30, 9, 0))
    assert lead.due_at == at(2026, 11, 30, 13, 0)
    old.retired_at = at(2026, 11, 30, 9, 30)
    old.save(update_fields=["retired_at"])
    berlin_agreement(accept_within_minutes=60)

    run = clocks_recount_run_create(why="a new version")
    assert clocks_recount_batch(run_id=run.pk, size=10) is True
    run.refresh_from_db()
    assert (run.done, run.total, run.cursor, run.finished_at) == (1, 1, lead.pk, None)
    lead.refresh_from_db()
    assert lead.due_at == at(2026, 11, 30, 10, 0) and lead.remind_at == at(2026, 11, 30, 9, 30)


def test_a_manager_reassigning_gives_the_new_rep_the_whole_time():
    from leads.routing.services import lead_reassign

    berlin_agreement(accept_within_minutes=60)
    manager = UserFactory(role=Role.SALES_MANAGER)
    lead, reps, _ = routed(at(2026, 11, 30, 9, 0))
    with time_machine.travel(at(2026, 11, 30, 9, 50), tick=False):
        lead_reassign(lead=lead, to_rep=reps[2], by=manager, reason="On leave")

    lead.refresh_from_db()
    assert lead.due_at == at(2026, 11, 30, 10, 50)


def test_the_due_time_shown_is_the_stored_one():
    from scoring.selectors import lead_due_times

    agreement = berlin_agreement(accept_within_minutes=60)
    lead, _, _ = routed(at(2026, 11, 30, 9, 0))
    Lead.objects.filter(pk=lead.pk).update(due_at=at(2026, 12, 2, 15, 0))
    lead.refresh_from_db()

    [due] = lead_due_times(lead=lead, agreement=agreement)
    assert due.local_words == "Wed Dec 2, 15:00 CET"


# What each step keeps for the dashboard's service-level compliance.


def test_each_step_keeps_its_agreed_due_time_its_rep_and_when_it_was_done():
    berlin_agreement(accept_within_minutes=240, contact_within_hours=2)
    lead, reps, _ = routed(at(2026, 11, 27, 18, 30))  # Friday evening: due Monday 13:00
    assert (lead.accept_due_at, lead.accept_rep, lead.accept_met_at) == (
        at(2026, 11, 30, 13, 0),
        reps[0],
        None,
    )
    with time_machine.travel(at(2026, 11, 30, 12, 0), tick=False):
        lead_accept(lead=lead, by=reps[0])
    lead.refresh_from_db()

    assert lead.accept_met_at == at(2026, 11, 30, 12, 0)  # in time
    assert lead.accept_due_at == at(2026, 11, 30, 13, 0)
    assert (lead.contact_due_at, lead.contact_rep, lead.contact_met_at) == (
        at(2026, 11, 30, 14, 0),
        reps[0],
        None,
    )


def test_a_breached_step_stays_against_its_first_rep_and_its_first_due_time():
    berlin_agreement(accept_within_minutes=60)
    lead, reps, _ = routed(at(2026, 11, 30, 9, 0))
    run_ladder(at(2026, 11, 30, 10, 0))  # breach: to the next rep, with a new clock
    lead.refresh_from_db()
    assert lead.owner == reps[1] and lead.due_at == at(2026, 11, 30, 11, 0)

    with time_machine.travel(at(2026, 11, 30, 10, 30), tick=False):
        lead_accept(lead=lead, by=reps[1])
    lead.refresh_from_db()

    assert (lead.accept_due_at, lead.accept_rep) == (at(2026, 11, 30, 10, 0), reps[0])
    assert lead.accept_met_at == at(2026, 11, 30, 10, 30)  # after the agreed time: late


def test_a_step_the_ladder_hands_to_the_manager_is_never_done_by_the_clock_stopping():
    berlin_agreement(accept_within_minutes=60)
    manager = UserFactory(role=Role.SALES_MANAGER)
    lead, reps, _ = routed(at(2026, 11, 30, 9, 0), manager=manager, max_reassignments=0)
    run_ladder(at(2026, 11, 30, 10, 0))
    lead.refresh_from_db()

    assert lead.owner == manager and lead.due_step == ""
    assert lead.accept_met_at is None and lead.accept_rep == reps[0]
