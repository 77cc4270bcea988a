"""The sweeper queues again only work whose message is really lost: a lease per step."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from leads.handoff import tasks
from leads.models import Lead, Stage, Submission
from portal.accounts.roles import Role
from tests.factories import AgreementFactory, FormFactory, LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db

LEASE = timedelta(seconds=settings.LEADBRIDGE_SWEEP_AFTER_SECONDS)


@pytest.fixture
def published(monkeypatch):
    """What the sweeper publishes, as (task name, id); the broker takes everything."""
    sent = []

    def publish(task, *args):
        sent.append((task.name, *args))
        return True

    monkeypatch.setattr("leads.handoff.tasks.publish", publish)
    return sent


@pytest.fixture
def now(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return timezone.now()


def stored_submission(**lead_fields) -> Submission:
    lead = LeadFactory(stage=Stage.CAPTURED, **lead_fields)
    return Submission.objects.create(form=FormFactory(), lead=lead, payload={})


def test_a_stored_submission_is_leased_until_its_message_counts_as_lost(now):
    assert stored_submission().qualify_due_at == now + LEASE


def test_sweeper_leaves_a_submission_whose_message_is_within_its_lease(
    now, published, time_machine
):
    AgreementFactory()
    submission = stored_submission()
    tasks.sweep_unfinished_leads()
    assert published == []

    time_machine.shift(LEASE)
    tasks.sweep_unfinished_leads()
    assert published == [("handoff.qualify_submission", submission.pk)]

    # Queued again, it has a new lease: the next sweeps leave it to that message.
    time_machine.shift(LEASE - timedelta(seconds=1))
    tasks.sweep_unfinished_leads()
    assert len(published) == 1
    time_machine.shift(timedelta(seconds=1))
    tasks.sweep_unfinished_leads()
    assert len(published) == 2


def test_sweeper_queues_nothing_to_score_while_no_agreement_is_active(now, published, time_machine):
    submission = stored_submission()
    time_machine.shift(LEASE)
    tasks.sweep_unfinished_leads()
    assert published == []
    AgreementFactory()
    tasks.sweep_unfinished_leads()
    assert published == [("handoff.qualify_submission", submission.pk)]


def test_a_scored_submission_closes_its_step_and_leases_its_leads_routing(now):
    AgreementFactory()
    submission = stored_submission(attributes={"company_size": 80})
    tasks.qualify_submission(submission.pk)
    submission.refresh_from_db()
    lead = Lead.objects.get(pk=submission.lead_id)
    assert submission.qualify_due_at is None
    assert (lead.stage, lead.route_due_at) == (Stage.QUALIFIED, now + LEASE)


def test_sweeper_leaves_a_qualified_lead_whose_routing_message_is_within_its_lease(
    now, published, time_machine
):
    leased = LeadFactory(stage=Stage.QUALIFIED, route_due_at=now + LEASE)
    # Qualified by a path that published nothing: the same grace from its stage change.
    unleased = LeadFactory(stage=Stage.QUALIFIED, stage_changed_at=now)
    LeadFactory(stage=Stage.ROUTED, route_due_at=now - LEASE)
    tasks.sweep_unfinished_leads()
    assert published == []

    time_machine.shift(LEASE + timedelta(seconds=1))
    tasks.sweep_unfinished_leads()
    assert sorted(published) == [
        ("handoff.route_lead", leased.pk),
        ("handoff.route_lead", unleased.pk),
    ]
    tasks.sweep_unfinished_leads()
    assert len(published) == 2


def test_sweeper_scores_and_routes_work_whose_message_was_lost(
    now, time_machine, django_capture_on_commit_callbacks
):
    AgreementFactory()
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)
    submission = stored_submission(attributes={"company_size": 80})

    time_machine.shift(LEASE)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_unfinished_leads()

    lead = Lead.objects.get(pk=submission.lead_id)
    assert (lead.stage, lead.owner) == (Stage.ROUTED, rep)


def test_a_refused_publish_releases_the_lease_for_the_next_sweep(
    now, monkeypatch, client, django_capture_on_commit_callbacks
):
    form = FormFactory()
    monkeypatch.setattr(
        tasks.qualify_submission,
        "apply_async",
        lambda *a, **k: (_ for _ in ()).throw(BrokerError("down")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/f/{form.slug}/", {"email": "ana@acme.example"})
    assert response.status_code == 302
    assert Submission.objects.get().qualify_due_at == now


def test_sweeper_stops_at_the_first_refused_publish_and_releases_the_rest(
    now, monkeypatch, time_machine
):
    AgreementFactory()
    first, second = stored_submission(), stored_submission()
    time_machine.shift(LEASE)
    monkeypatch.setattr("leads.handoff.tasks.publish", lambda task, pk: pk != first.pk)
    tasks.sweep_unfinished_leads()
    due = dict(Submission.objects.values_list("pk", "qualify_due_at"))
    assert due == {first.pk: timezone.now(), second.pk: timezone.now()}


def test_a_sweep_with_nothing_to_do_is_a_few_queries(django_assert_max_num_queries, published):
    AgreementFactory()
    with django_assert_max_num_queries(8):
        tasks.sweep_unfinished_leads()
    assert published == []
