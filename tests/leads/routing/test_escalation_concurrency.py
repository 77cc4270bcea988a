"""Beats at once on PostgreSQL (threads, and real processes as beat's workers run): every
due lead is reminded once and reassigned once."""

import datetime
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection, connections

from leads.models import Lead, LeadEvent, Stage
from leads.routing.escalation import leads_escalate, leads_remind
from portal.accounts.roles import Role
from tests.factories import AgreementFactory, LeadFactory, UserFactory, queue_with_reps

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]
Kind = LeadEvent.Kind


def open_clocks(count: int, **clock) -> list[Lead]:
    AgreementFactory(business_days=list(range(7)), business_closes=datetime.time(23, 59))
    reps = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue = queue_with_reps(*reps, escalate_off_hours=True)
    now = datetime.datetime.now(datetime.UTC)
    leads = LeadFactory.create_batch(
        count, stage=Stage.ROUTED, owner=reps[0], queue=queue, due_step="accept", due_from=now
    )
    Lead.objects.update(**{k: v(now) for k, v in clock.items()})
    return leads


def in_threads(step, threads: int = 4) -> None:
    barrier = Barrier(threads)

    def beat():
        try:
            barrier.wait()
            while step(limit=7):
                pass
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(beat) for _ in range(threads)]:
            future.result()


def test_concurrent_beats_remind_each_rep_once():
    leads = open_clocks(
        40,
        remind_at=lambda now: now - datetime.timedelta(minutes=1),
        due_at=lambda now: now + datetime.timedelta(hours=1),
    )

    in_threads(leads_remind)

    assert LeadEvent.objects.filter(kind=Kind.SLA_REMINDER).count() == len(leads)
    assert set(LeadEvent.objects.filter(kind=Kind.SLA_REMINDER).values_list("lead", flat=True)) == {
        lead.pk for lead in leads
    }


def test_concurrent_beats_reassign_each_breached_lead_once():
    leads = open_clocks(40, due_at=lambda now: now - datetime.timedelta(minutes=1))

    in_threads(leads_escalate)

    for kind in (Kind.SLA_BREACHED, Kind.REASSIGNED):
        per_lead = LeadEvent.objects.filter(kind=kind).values_list("lead", flat=True)
        assert sorted(per_lead) == sorted(lead.pk for lead in leads)
    assert not Lead.objects.filter(escalations__gt=1).exists()
    assert not Lead.objects.filter(due_at__lte=datetime.datetime.now(datetime.UTC)).exists()


def beat_process(start) -> None:
    """A worker running beat's escalation step: breaches, then reminders, a batch at a time."""
    code = 0
    try:
        start.wait()
        for step in (leads_escalate, leads_remind):
            while step(limit=5):
                pass
    except Exception:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        connections.close_all()
        os._exit(code)


def test_four_processes_breach_and_remind_each_lead_once():
    now = datetime.datetime.now(datetime.UTC)
    breached = open_clocks(30, due_at=lambda now: now - datetime.timedelta(minutes=1))
    reminded = LeadFactory.create_batch(
        30,
        stage=Stage.ROUTED,
        owner=breached[0].owner,
        queue=breached[0].queue,
        due_step="accept",
        due_from=now,
        due_at=now + datetime.timedelta(hours=1),
        remind_at=now - datetime.timedelta(minutes=1),
    )
    connections.close_all()

    context = multiprocessing.get_context("fork")
    start = context.Barrier(4)
    processes = [context.Process(target=beat_process, args=(start,)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * 4

    for kind, leads in ((Kind.SLA_BREACHED, breached), (Kind.REASSIGNED, breached)):
        per_lead = LeadEvent.objects.filter(kind=kind).values_list("lead", flat=True)
        assert sorted(per_lead) == sorted(lead.pk for lead in leads)
    reminders = LeadEvent.objects.filter(kind=Kind.SLA_REMINDER).values_list("lead", flat=True)
    assert sorted(reminders) == sorted(lead.pk for lead in reminded)
    assert not Lead.objects.filter(escalations__gt=1).exists()
