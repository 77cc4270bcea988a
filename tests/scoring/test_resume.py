"""Beat's sweeper behind the bulk runs: a re-scoring or clocks' recount whose message was lost
is sent again and resumes where it stopped, says so on the page, and is given up with the
reason after a few sends that moved nothing."""

# ruff: noqa: F401, F811 (the fixtures `world` and `three_routed` are those of the re-scoring's and
# the recount's own tests, imported by name)

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leads.handoff import tasks as handoff_tasks
from leads.models import Lead, LeadEvent, Stage
from portal.accounts.roles import Role
from scoring import tasks
from scoring.clocks import clocks_recount_batch, clocks_recount_run_create
from scoring.progress import RescoreRun
from scoring.rescore import rescore_chunk, rescore_run_create
from scoring.resume import runs_resume_claim
from tests.factories import UserFactory
from tests.scoring.test_clock_recount import at, three_routed
from tests.scoring.test_rescore import activate, world

pytestmark = pytest.mark.django_db

STALLED = timedelta(seconds=settings.LEADBRIDGE_RUN_RESUME_AFTER_SECONDS + 1)


@pytest.fixture
def lost(monkeypatch):
    """Every run's message is published into the void; `sent` lists what was sent."""
    sent = []
    monkeypatch.setattr(tasks, "_publish", lambda run_id: sent.append(("leads", run_id)))
    monkeypatch.setattr(tasks, "_publish_recount", lambda run_id: sent.append(("clocks", run_id)))
    return sent


def later(start, times=1):
    return time_machine.travel(start + STALLED * times, tick=False)


def test_beat_runs_the_sweeper():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert handoff_tasks.resume_stalled_runs.name in schedule


def test_a_rescore_whose_message_never_arrived_is_sent_again_and_finishes(
    world, django_capture_on_commit_callbacks, monkeypatch, client
):
    proposal, open_30, open_10, _decided = world
    dropped = []
    monkeypatch.setattr(tasks.rescore_open_leads, "apply_async", lambda *a, **k: dropped.append(a))
    monkeypatch.setattr(tasks.recount_clocks, "apply_async", lambda *a, **k: dropped.append(a))
    activate(proposal, django_capture_on_commit_callbacks)
    run = RescoreRun.objects.get(agreement=proposal)
    assert len(dropped) == 2 and run.finished_at is None  # the messages went nowhere
    started = timezone.now()

    handoff_tasks.resume_stalled_runs()  # not stalled yet: merely waiting
    assert len(dropped) == 2
    monkeypatch.undo()  # the broker is back: messages arrive (run at once in tests)
    with later(started):
        handoff_tasks.resume_stalled_runs()

    run.refresh_from_db()
    assert (run.done, run.total, run.qualified) == (2, 2, 1)
    assert run.finished_at is not None and run.resumed_at is not None and run.failure == ""
    assert Lead.objects.get(pk=open_30.pk).stage == Stage.QUALIFIED
    assert Lead.objects.get(pk=open_10.pk).stage == Stage.DISQUALIFIED
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("scoring:agreement")).content.decode()
    when = timezone.localtime(run.resumed_at)
    assert f"Resumed at {when:%d %b %Y, %H:%M} after it stopped moving." in page
    progress = client.get(reverse("scoring:rescore_progress", kwargs={"pk": run.pk})).json()
    assert progress["resumed"].startswith("Resumed at ") and progress["failed"] is False


def test_a_clocks_recount_whose_message_never_arrived_is_sent_again_and_finishes(
    three_routed,
):
    with transaction.atomic():
        run = clocks_recount_run_create(why="v2 became active")  # its message: never sent
    with later(timezone.now()):
        handoff_tasks.resume_stalled_runs()
    run.refresh_from_db()
    assert (run.done, run.total) == (3, 3) and run.finished_at is not None
    assert set(Lead.objects.values_list("due_at", flat=True)) == {at(2026, 11, 30, 10, 0)}


def test_a_run_sent_twice_counts_no_lead_twice(world, lost):
    """Both the first resend and the second arrive (the first was slow, not lost): the run
    resumes from its cursor once, and the other delivery finds nothing left."""
    proposal, open_30, open_10, _decided = world
    with transaction.atomic():
        run = rescore_run_create(agreement=proposal)
    assert rescore_chunk(run_id=run.pk, size=1) is True  # one lead done, then the message lost
    started = timezone.now()
    with later(started):
        handoff_tasks.resume_stalled_runs()
    with later(started, 2):
        handoff_tasks.resume_stalled_runs()
    assert lost == [("leads", run.pk), ("leads", run.pk)]
    run.refresh_from_db()
    assert run.resumes == 2

    tasks.rescore_open_leads(run.pk)
    tasks.rescore_open_leads(run.pk)

    run.refresh_from_db()
    assert (run.done, run.total, run.qualified) == (2, 2, 1) and run.finished_at is not None
    for lead in (open_30, open_10):
        current = lead.qualifications.current()
        assert list(current.values_list("agreement__version", flat=True)) == [2]
        assert lead.qualifications.count() == 2  # v1's, superseded, and v2's: no third
    moved = LeadEvent.objects.filter(lead=open_30, to_stage=Stage.QUALIFIED)
    assert moved.count() == 1


def test_a_run_that_never_moves_is_given_up_with_the_reason(
    three_routed,
    lost,
    settings,
    client,
):
    settings.LEADBRIDGE_RUN_RESUME_ATTEMPTS = 2
    with transaction.atomic():
        run = clocks_recount_run_create(why="v2 became active")
    started = timezone.now()
    for times in (1, 2, 3):
        with later(started, times):
            handoff_tasks.resume_stalled_runs()

    assert lost == [("clocks", run.pk)] * 2  # the third sweep gives it up instead
    run.refresh_from_db()
    assert run.finished_at is not None and run.done == 0
    minutes = settings.LEADBRIDGE_RUN_RESUME_AFTER_SECONDS // 60
    assert run.words == (
        f"Stopped at 0 of 3: it did not move for {minutes} minutes after it was sent again "
        "2 times; no worker took it: check that the bulk worker runs. Leads done so far keep "
        "what the run gave them."
    )
    assert clocks_recount_batch(run_id=run.pk, size=10) is False  # a late delivery: nothing
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("scoring:agreement")).content.decode()
    assert "Stopped at 0 of 3: it did not move" in page and "bg-danger" in page
    assert 'data-running="1"' not in page
    progress = client.get(reverse("scoring:rescore_progress", kwargs={"pk": run.pk})).json()
    assert (progress["finished"], progress["failed"], progress["percent"]) == (True, True, 0)


def test_the_reason_names_what_the_task_raised(world, monkeypatch, settings):
    settings.LEADBRIDGE_RUN_RESUME_ATTEMPTS = 1
    proposal, *_ = world
    with transaction.atomic():
        run = rescore_run_create(agreement=proposal)

    def broken(**kwargs):
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(tasks, "rescore_chunks", broken)
    started = timezone.now()
    with later(started), pytest.raises(RuntimeError):
        handoff_tasks.resume_stalled_runs()  # sent again; the task (run at once here) raises
    with later(started, 2):
        handoff_tasks.resume_stalled_runs()
    run.refresh_from_db()
    assert "its task failed with RuntimeError: the engine broke" in run.failure


def test_a_run_that_moved_after_a_resend_counts_its_sends_afresh(world, lost):
    proposal, *_ = world
    with transaction.atomic():
        run = rescore_run_create(agreement=proposal)
    started = timezone.now()
    with later(started):
        runs_resume_claim()
    with later(started, 1.5):
        rescore_chunk(run_id=run.pk, size=1)  # the resend arrived and moved it
    with later(started, 3):
        assert [claimed.run_id for claimed in runs_resume_claim()] == [run.pk]
    run.refresh_from_db()
    assert run.resumes == 1


def test_a_run_that_moves_is_not_sent_again(world, lost):
    proposal, *_ = world
    with transaction.atomic():
        run = rescore_run_create(agreement=proposal)
    started = timezone.now()
    with later(started, 0.5):
        rescore_chunk(run_id=run.pk, size=1)
    with later(started, 1):
        handoff_tasks.resume_stalled_runs()
    assert lost == []
