"""`hand_off`: every submission due is scored and every qualified lead due is routed, in
batches, each row exactly once; a bad row is put off without holding up the others."""

from collections import Counter
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from leads.handoff import tasks
from leads.models import Lead, LeadEvent, Stage, Submission
from leads.routing.models import Assignment
from portal.accounts.roles import Role
from scoring.models import Qualification
from tests.factories import AgreementFactory, FormFactory, LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db

RETRY = timedelta(seconds=settings.LEADBRIDGE_HANDOFF_RETRY_SECONDS)


@pytest.fixture
def now(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return timezone.now()


def stored_submission(*, lead=None, **lead_fields) -> Submission:
    lead = lead or LeadFactory(stage=Stage.CAPTURED, **lead_fields)
    return Submission.objects.create(form=FormFactory(), lead=lead, payload={})


def test_a_stored_submission_is_due_at_once(now):
    assert stored_submission().qualify_due_at == now


def test_hand_off_scores_and_routes_everything_due(now):
    AgreementFactory()
    reps = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue_with_reps(*reps)
    big = [stored_submission(attributes={"company_size": 80}) for _ in range(6)]
    small = stored_submission(attributes={"company_size": 3})

    tasks.hand_off()

    assert Submission.objects.filter(qualify_due_at__isnull=False).count() == 0
    assert Counter(Lead.objects.values_list("stage", flat=True)) == {
        Stage.ROUTED: 6,
        Stage.DISQUALIFIED: 1,
    }
    assert Counter(Lead.objects.exclude(owner=None).values_list("owner", flat=True)) == {
        rep.pk: 2 for rep in reps
    }
    lead = Lead.objects.get(pk=big[0].lead_id)
    assert list(lead.events.values_list("kind", "to_stage")) == [
        (LeadEvent.Kind.STAGE_CHANGED, Stage.QUALIFIED),
        (LeadEvent.Kind.STAGE_CHANGED, Stage.ROUTED),
        (LeadEvent.Kind.ASSIGNED, ""),
    ]
    assert Lead.objects.get(pk=small.lead_id).qualifications.get().qualified is False


def test_work_is_taken_in_batches_until_nothing_is_due(now, monkeypatch):
    monkeypatch.setattr(tasks, "BATCH", 2)
    AgreementFactory()
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    for _ in range(5):
        stored_submission(attributes={"company_size": 80})

    tasks.hand_off()

    assert Lead.objects.filter(stage=Stage.ROUTED).count() == 5
    assert Qualification.objects.count() == 5


def test_a_batch_costs_the_same_queries_for_ten_leads_as_for_forty(
    now, django_assert_max_num_queries, django_assert_num_queries
):
    AgreementFactory()
    queue_with_reps(*UserFactory.create_batch(2, role=Role.SALES_REP))

    def queries_for(count: int) -> int:
        for _ in range(count):
            stored_submission(attributes={"company_size": 80})
        with django_assert_max_num_queries(1000) as captured:
            tasks.hand_off()
        assert Lead.objects.filter(stage=Stage.QUALIFIED).count() == 0
        return len(captured.captured_queries)

    assert queries_for(10) == queries_for(40)


def test_a_second_hand_off_changes_nothing(now):
    AgreementFactory()
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    stored_submission(attributes={"company_size": 80})
    tasks.hand_off()
    events = LeadEvent.objects.count()

    tasks.hand_off()

    assert (LeadEvent.objects.count(), Assignment.objects.count()) == (events, 1)


def test_two_submissions_of_one_lead_in_one_batch_are_judged_in_order(now):
    AgreementFactory()
    lead = LeadFactory(stage=Stage.CAPTURED, attributes={"company_size": 80})
    first, second = stored_submission(lead=lead), stored_submission(lead=lead)

    tasks.hand_off()  # no queue: the lead stays qualified

    assert set(Qualification.objects.values_list("submission", flat=True)) == {
        first.pk,
        second.pk,
    }
    lead.refresh_from_db()
    assert lead.stage == Stage.QUALIFIED
    assert lead.events.filter(to_stage=Stage.QUALIFIED).count() == 1


def test_nothing_is_scored_while_no_agreement_is_active(now):
    submission = stored_submission(attributes={"company_size": 80})

    tasks.hand_off()

    submission.refresh_from_db()
    assert submission.qualify_due_at == now
    assert not Qualification.objects.exists()


def test_a_submission_that_fails_is_put_off_and_the_rest_of_its_batch_goes_on(
    now, monkeypatch, caplog, time_machine
):
    AgreementFactory()
    good = stored_submission(attributes={"company_size": 80})
    bad = stored_submission(attributes={"company_size": 80})
    real = tasks.submissions_qualify

    def failing_on_bad(*, submissions):
        if any(s.pk == bad.pk for s in submissions):
            raise ValueError("a bug in one row")
        return real(submissions=submissions)

    monkeypatch.setattr(tasks, "submissions_qualify", failing_on_bad)

    tasks.hand_off()

    good.refresh_from_db(), bad.refresh_from_db()
    assert good.qualify_due_at is None
    assert bad.qualify_due_at == now + RETRY
    assert Lead.objects.get(pk=good.lead_id).stage == Stage.QUALIFIED
    assert Lead.objects.get(pk=bad.lead_id).stage == Stage.CAPTURED
    assert "a bug in one row" in caplog.text

    # Put off, it is not due for the next messages; after the retry time it is.
    monkeypatch.setattr(tasks, "submissions_qualify", real)
    tasks.hand_off()
    assert not Qualification.objects.filter(submission=bad).exists()
    time_machine.shift(RETRY)
    tasks.hand_off()
    assert Qualification.objects.filter(submission=bad).exists()


def test_a_lead_no_queue_has_room_for_waits_and_is_routed_once_a_rep_has_room(now, time_machine):
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep, capacity_per_rep=1)
    held = LeadFactory(stage=Stage.ROUTED, owner=rep)
    waiting = LeadFactory(stage=Stage.QUALIFIED)

    tasks.hand_off()
    waiting.refresh_from_db()
    assert (waiting.stage, waiting.route_due_at) == (Stage.QUALIFIED, now + RETRY)

    Lead.objects.filter(pk=held.pk).update(stage=Stage.WON)
    tasks.hand_off()
    assert Lead.objects.get(pk=waiting.pk).stage == Stage.QUALIFIED  # not due yet

    time_machine.shift(RETRY)
    tasks.hand_off()
    waiting.refresh_from_db()
    assert (waiting.stage, waiting.owner, waiting.route_due_at) == (Stage.ROUTED, rep, None)


def test_capacity_holds_within_one_batch():
    reps = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue_with_reps(*reps, capacity_per_rep=2)
    LeadFactory.create_batch(7, stage=Stage.QUALIFIED)

    tasks.hand_off()

    assert Counter(Lead.objects.exclude(owner=None).values_list("owner", flat=True)) == {
        reps[0].pk: 2,
        reps[1].pk: 2,
    }
    assert Lead.objects.filter(stage=Stage.QUALIFIED).count() == 3


def test_a_refused_publish_leaves_the_submission_due_for_beats_next_hand_off(
    now, monkeypatch, client, django_capture_on_commit_callbacks
):
    form = FormFactory()
    monkeypatch.setattr(
        tasks.hand_off, "apply_async", lambda *a, **k: (_ for _ in ()).throw(BrokerError("down"))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/f/{form.slug}/", {"email": "ana@acme.example"})
    assert response.status_code == 302
    assert Submission.objects.get().qualify_due_at == now


def test_beat_wakes_the_hand_off():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.hand_off.name in schedule


def test_a_submission_no_agreement_judges_is_put_off_and_the_others_go_on(now, time_machine):
    covered, uncovered = FormFactory(), FormFactory()
    AgreementFactory(form_ids=[covered.pk])
    lead = LeadFactory(stage=Stage.CAPTURED, attributes={"company_size": 80})
    waiting = Submission.objects.create(form=uncovered, lead=lead, payload={})
    judged = Submission.objects.create(
        form=covered, lead=LeadFactory(attributes={"company_size": 80}), payload={}
    )

    tasks.hand_off()

    waiting.refresh_from_db(), judged.refresh_from_db()
    assert judged.qualify_due_at is None
    assert waiting.qualify_due_at == now + RETRY
    assert not Qualification.objects.filter(submission=waiting).exists()


def test_a_lead_only_a_no_route_import_brought_is_scored_and_kept_in_nurture(now):
    AgreementFactory()
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)
    form = FormFactory()
    history = LeadFactory(stage=Stage.CAPTURED, attributes={"company_size": 80})
    Submission.objects.create(form=form, lead=history, payload={}, for_reps=False)
    live = LeadFactory(stage=Stage.CAPTURED, attributes={"company_size": 80})
    Submission.objects.create(form=form, lead=live, payload={}, for_reps=False)
    Submission.objects.create(form=form, lead=live, payload={})  # and a post of its own

    tasks.hand_off()

    history.refresh_from_db(), live.refresh_from_db()
    assert (history.stage, history.owner) == (Stage.RECYCLED, None)
    assert list(history.events.values_list("from_stage", "to_stage")) == [
        (Stage.CAPTURED, Stage.QUALIFIED),
        (Stage.QUALIFIED, Stage.RECYCLED),
    ]
    assert (live.stage, live.owner) == (Stage.ROUTED, rep)


def test_routing_live_leads_asks_once_whether_an_import_kept_any(
    now, django_assert_max_num_queries
):
    from django.db import transaction

    from leads.handoff import services

    leads = [LeadFactory(stage=Stage.QUALIFIED) for _ in range(20)]
    for lead in leads:
        Submission.objects.create(form=FormFactory(), lead=lead, payload={})
    with transaction.atomic(), django_assert_max_num_queries(1):
        assert services.leads_not_for_reps(leads=leads) == []


@pytest.fixture
def paced(monkeypatch):
    """A clock that moves only when told or slept on; the sleeps are recorded."""
    clock, slept = [1000.0], []

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(tasks.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(tasks.time, "sleep", sleep)
    monkeypatch.setattr(tasks, "_previous_run_started", float("-inf"))
    return clock, slept


def test_a_worker_process_starts_a_run_at_most_once_per_pace(paced):
    clock, slept = paced
    tasks._keep_pace()  # the first run: at once
    clock[0] += 0.05
    tasks._keep_pace()  # 50 ms after the previous start: waits for the rest
    assert slept == [pytest.approx(tasks.PACE_SECONDS - 0.05)]
    clock[0] += 5  # after a quiet spell: at once
    tasks._keep_pace()
    assert len(slept) == 1


def test_a_run_in_process_is_not_paced(paced):
    _, slept = paced
    tasks.hand_off()
    tasks.hand_off.apply()  # eager, as in the demo
    tasks.hand_off()
    assert slept == []


def test_more_than_a_batch_due_sends_one_message_for_another_worker(now, monkeypatch, own_broker):
    # The outbox sends no message while one waits, so a backlog may have only the one this
    # run took: another worker process is asked to take a share.
    monkeypatch.setattr(tasks, "BATCH", 2)
    AgreementFactory()
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    for _ in range(5):
        stored_submission(attributes={"company_size": 80})
    handoff = redis.Redis.from_url(own_broker.url)

    tasks.hand_off()

    assert handoff.llen(tasks.hand_off.queue) == 1
    assert Lead.objects.filter(stage=Stage.ROUTED).count() == 5


def test_a_run_within_a_batch_sends_no_message(now, own_broker):
    AgreementFactory()
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    stored_submission(attributes={"company_size": 80})
    handoff = redis.Redis.from_url(own_broker.url)

    tasks.hand_off()

    assert handoff.llen(tasks.hand_off.queue) == 0


def test_a_pool_release_routes_the_pool_then_drains_what_else_is_due(now):
    # It runs on the handoff queue, where a waiting message stops the outbox sending a
    # hand_off: so it must do the hand_off's work too.
    AgreementFactory()
    rep = UserFactory(role=Role.SALES_REP)
    queue = queue_with_reps(rep)
    pooled = LeadFactory(stage=Stage.QUALIFIED, queue=queue, route_due_at=now + RETRY)
    submission = stored_submission(attributes={"company_size": 80})

    tasks.release_pools([queue.pk], [])

    assert Lead.objects.get(pk=pooled.pk).owner == rep  # not due: the release took it
    assert Lead.objects.get(pk=submission.lead_id).stage == Stage.ROUTED
    assert tasks.release_pools.queue == tasks.hand_off.queue == settings.CELERY_HANDOFF_QUEUE
