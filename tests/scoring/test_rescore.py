"""Re-scoring on activation: open leads judged again, decided leads untouched, progress."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leads.capture.services import Provenance, lead_capture
from leads.handoff import tasks as handoff
from leads.handoff.services import HANDOFF_RETRY
from leads.models import Lead, LeadEvent, Stage
from leads.signals import leads_qualified
from portal.accounts.roles import Role
from scoring.models import Agreement, Criterion
from scoring.progress import RescoreRun
from scoring.rescore import rescore_chunk, rescore_run_create
from scoring.services import agreement_sign
from tests.factories import (
    AgreementFactory,
    CriterionFactory,
    FormFactory,
    UserFactory,
    queue_with_reps,
)

pytestmark = pytest.mark.django_db


def captured(email: str, size: int) -> Lead:
    """A lead captured and judged by the active version through the handoff."""
    submission = lead_capture(
        form=FormFactory(),
        payload={"email": email, "company_size": size},
        cleaned={"email": email, "company_size": size},
        provenance=Provenance(),
    )
    return Lead.objects.get(pk=submission.lead_id)


def results(lead: Lead) -> list[tuple]:
    current = lead.qualifications.current().get()
    return list(current.results.values_list("passed", "points", "reason"))


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """v1 active (company size at least 50); three leads it disqualified, one of them since
    taken by a rep (decided: accepted); v2 proposed (company size at least 20)."""
    AgreementFactory(version=1)
    with django_capture_on_commit_callbacks(execute=True):
        open_30 = captured("thirty@acme.example", 30)
        open_10 = captured("ten@acme.example", 10)
        decided = captured("decided@acme.example", 30)
    for lead in (open_30, open_10, decided):
        lead.refresh_from_db()
    Lead.objects.filter(pk=decided.pk).update(stage=Stage.ACCEPTED)
    proposal = Agreement.objects.create(version=2)
    CriterionFactory(agreement=proposal, value=20)
    Agreement.objects.filter(pk=proposal.pk).update(proposed_at=timezone.now())
    return proposal, open_30, open_10, decided


def activate(proposal, capture):
    with capture(execute=True):
        agreement_sign(agreement=proposal, by=UserFactory(role=Role.SALES_MANAGER), side="sales")
        agreement_sign(
            agreement=proposal, by=UserFactory(role=Role.MARKETING_MANAGER), side="marketing"
        )


def test_activation_rescores_open_leads_and_leaves_decided_ones(
    world, django_capture_on_commit_callbacks
):
    proposal, open_30, open_10, decided = world
    decided_before = results(decided)
    assert [lead.stage for lead in (open_30, open_10)] == [Stage.DISQUALIFIED] * 2

    activate(proposal, django_capture_on_commit_callbacks)

    open_30.refresh_from_db()
    assert open_30.stage == Stage.QUALIFIED
    qualification = open_30.qualifications.current().get()
    assert (qualification.agreement.version, qualification.qualified) == (2, True)
    assert results(open_30) == [(True, 0, "Company size passed: company size is 30, at least 20.")]
    # v1's judgement stays readable, superseded, with its explanation as it was.
    old = open_30.qualifications.superseded().get()
    assert (old.agreement.version, old.qualified, old.submission_id) == (
        1,
        False,
        qualification.submission_id,
    )
    assert old.superseded_at == qualification.evaluated_at
    assert list(old.results.values_list("passed", "reason")) == [
        (False, "Company size failed: company size is 30, below 50.")
    ]
    event = open_30.events.get(to_stage=Stage.QUALIFIED)
    assert "agreement v2, re-scored when it became active" in event.reason
    assert "by v1 it was disqualified" in event.reason

    open_10.refresh_from_db()
    assert open_10.stage == Stage.DISQUALIFIED
    assert open_10.qualifications.current().get().agreement.version == 2
    assert open_10.qualifications.superseded().get().agreement.version == 1
    assert results(open_10) == [(False, 0, "Company size failed: company size is 10, below 20.")]
    assert open_10.events.filter(kind=LeadEvent.Kind.NOTE, reason__contains="re-scored").exists()

    decided.refresh_from_db()
    assert decided.stage == Stage.ACCEPTED
    assert decided.qualifications.get().agreement.version == 1  # nothing superseded
    assert results(decided) == decided_before

    run = RescoreRun.objects.get(agreement=proposal)
    assert (run.total, run.done, run.qualified, run.percent) == (2, 2, 1, 100)
    assert run.finished_at is not None


def test_a_lead_qualified_while_no_queue_had_room_is_routed_by_beat_later(
    world, django_capture_on_commit_callbacks, time_machine
):
    proposal, open_30, _open_10, _decided = world
    time_machine.move_to(timezone.now(), tick=False)
    activate(proposal, django_capture_on_commit_callbacks)  # routing finds no queue: put off
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)
    time_machine.shift(HANDOFF_RETRY + timedelta(seconds=1))

    handoff.hand_off()  # what beat sends every minute; tasks run in-process in the tests

    open_30.refresh_from_db()
    assert (open_30.stage, open_30.owner) == (Stage.ROUTED, rep)


def test_leads_the_new_version_qualifies_are_routed_after_the_commit_without_beat(
    world, django_capture_on_commit_callbacks
):
    proposal, open_30, _open_10, _decided = world
    rep = UserFactory(role=Role.SALES_REP)
    queue_with_reps(rep)

    activate(proposal, django_capture_on_commit_callbacks)  # no hand_off called by hand

    open_30.refresh_from_db()
    assert (open_30.stage, open_30.owner) == (Stage.ROUTED, rep)


def test_a_chunk_announces_its_qualified_leads_once(world):
    proposal, open_30, _open_10, _decided = world
    more = [captured(f"more{n}@acme.example", 40) for n in range(3)]
    # Judged by v1 and disqualified, like open_30 (the world's handoff ran before these).
    from scoring.services import submissions_qualify

    submissions_qualify(submissions=[lead.submissions.get() for lead in more])
    announced = []

    def heard(sender, lead_ids, **kwargs):
        announced.append(sorted(lead_ids))

    leads_qualified.connect(heard)
    try:
        with transaction.atomic():
            run = rescore_run_create(agreement=proposal)
        rescore_chunk(run_id=run.pk)
    finally:
        leads_qualified.disconnect(heard)
    assert announced == [sorted([open_30.pk, *(lead.pk for lead in more)])]


def test_progress_moves_chunk_by_chunk_to_100_percent(world):
    """The run is made by hand here, to step through it one lead per chunk."""
    proposal, *_ = world
    with transaction.atomic():
        run = rescore_run_create(agreement=proposal)
    assert (run.total, run.percent) == (2, 0)

    assert rescore_chunk(run_id=run.pk, size=1) is True
    run.refresh_from_db()
    assert (run.done, run.percent, run.finished_at) == (1, 50, None)

    assert rescore_chunk(run_id=run.pk, size=1) is True
    assert rescore_chunk(run_id=run.pk, size=1) is False
    run.refresh_from_db()
    assert (run.done, run.percent, run.qualified) == (2, 100, 1)
    assert rescore_chunk(run_id=run.pk, size=1) is False  # a second delivery does nothing


def test_a_kept_lead_gets_its_new_score_and_one_whose_score_stays_is_not_written(
    world, django_capture_on_commit_callbacks
):
    _proposal, _open_30, open_10, _decided = world
    proposal = Agreement.objects.create(version=3)  # v2's size, and 5 points for a job title
    CriterionFactory(agreement=proposal, value=20)
    CriterionFactory(
        agreement=proposal,
        label="Has a job title",
        kind=Criterion.Kind.SCORING,
        attribute="job_title",
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=5,
        position=2,
    )
    cleaned = {"email": "titled@acme.example", "company_size": 10, "job_title": "CTO"}
    with django_capture_on_commit_callbacks(execute=True):
        submission = lead_capture(
            form=FormFactory(), payload=cleaned, cleaned=cleaned, provenance=Provenance()
        )
    titled = Lead.objects.get(pk=submission.lead_id)
    long_ago = timezone.now() - timedelta(days=3)
    Lead.objects.filter(pk__in=[open_10.pk, titled.pk]).update(updated_at=long_ago)
    assert titled.stage == Stage.DISQUALIFIED and titled.score == 0
    with transaction.atomic():
        run = rescore_run_create(agreement=proposal)
    rescore_chunk(run_id=run.pk)

    titled.refresh_from_db()  # v3 scores it 5, and it still fails the size
    assert (titled.stage, titled.score) == (Stage.DISQUALIFIED, 5)
    assert titled.updated_at > long_ago
    assert titled.qualifications.current().get().score == 5
    open_10.refresh_from_db()  # v3 scores it 0, as v1 did: its row is not written
    assert (open_10.stage, open_10.score, open_10.updated_at) == (Stage.DISQUALIFIED, 0, long_ago)
    assert open_10.qualifications.current().get().agreement.version == 3


def test_a_run_whose_version_was_retired_stops(world):
    proposal, *_ = world
    with transaction.atomic():
        run = rescore_run_create(agreement=proposal)
    proposal.retired_at = timezone.now()
    proposal.save(update_fields=["retired_at"])
    assert rescore_chunk(run_id=run.pk) is False
    assert Lead.objects.filter(stage=Stage.DISQUALIFIED).count() == 2


def test_the_agreement_page_shows_the_progress_and_polls_it(
    world, django_capture_on_commit_callbacks, client
):
    proposal, *_ = world
    activate(proposal, django_capture_on_commit_callbacks)
    run = RescoreRun.objects.get(agreement=proposal)
    client.force_login(UserFactory(role=Role.SALES_REP))
    page = client.get(reverse("scoring:agreement")).content.decode()
    assert 'id="rescore-progress"' in page
    assert 'aria-valuenow="100"' in page
    assert "Done: 2 of 2 disqualified leads judged again; 1 now qualifies" in page
    progress = client.get(reverse("scoring:rescore_progress", kwargs={"pk": run.pk})).json()
    assert progress == {
        "kind": "leads",
        "version": 2,
        "total": 2,
        "done": 2,
        "qualified": 1,
        "percent": 100,
        "finished": True,
        "failed": False,
        "words": "Done: 2 of 2 disqualified leads judged again; 1 now qualifies and goes to "
        "routing.",
        "resumed": "",
    }


def test_the_lead_page_shows_the_superseded_judgement_under_earlier_judgements(
    world, django_capture_on_commit_callbacks, client
):
    proposal, open_30, _open_10, decided = world
    activate(proposal, django_capture_on_commit_callbacks)
    client.force_login(UserFactory(role=Role.SALES_MANAGER))

    page = client.get(open_30.get_absolute_url()).content.decode()
    current, earlier = page.split('id="earlier-judgements"')
    assert "Company size passed: company size is 30, at least 20." in current
    assert "Agreement v2" in current
    assert "Company size failed: company size is 30, below 50." in earlier
    assert "Agreement v1" in earlier

    assert 'id="earlier-judgements"' not in client.get(decided.get_absolute_url()).content.decode()
