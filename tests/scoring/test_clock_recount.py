"""The running clocks counted again when the service levels or a queue's hours change, in
bulk, with a progress row the manager watches as they watch a re-scoring."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from leads.models import Lead, Stage
from leads.routing.services import lead_route
from portal.accounts.roles import Role
from scoring.clocks import clocks_recount_batch, clocks_recount_run_create
from scoring.progress import RescoreRun
from scoring.tasks import recount_clocks
from tests.factories import (
    AgreementFactory,
    CriterionFactory,
    LeadFactory,
    UserFactory,
    queue_with_reps,
)

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def three_routed():
    """Three leads routed Monday 09:00 under 4 working hours to accept (due 13:00); then the
    agreement's time is cut to 1 hour, as a new version would."""
    agreement = AgreementFactory(
        time_zone="Europe/Berlin",
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        accept_within_minutes=240,
    )
    queue_with_reps(*UserFactory.create_batch(2, role=Role.SALES_REP))
    leads = LeadFactory.create_batch(3, stage=Stage.QUALIFIED)
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        for lead in leads:
            lead_route(lead_id=lead.pk)
    assert set(Lead.objects.values_list("due_at", flat=True)) == {at(2026, 11, 30, 13, 0)}
    type(agreement).objects.filter(pk=agreement.pk).update(accept_within_minutes=60)
    return leads


def test_a_recount_moves_its_progress_batch_by_batch_and_finishes(three_routed):
    run = clocks_recount_run_create(why="v2 became active")
    assert (run.kind, run.total, run.done, run.percent) == ("clocks", 3, 0, 0)

    assert clocks_recount_batch(run_id=run.pk, size=2) is True
    run.refresh_from_db()
    assert (run.done, run.percent, run.finished_at) == (2, 66, None)
    assert run.words == "2 of 3 open leads' due times counted again so far."

    recount_clocks(run.pk)
    run.refresh_from_db()
    assert (run.done, run.percent) == (3, 100) and run.finished_at is not None
    assert run.words == "Done: the due times of 3 open leads counted again."
    assert set(Lead.objects.values_list("due_at", flat=True)) == {at(2026, 11, 30, 10, 0)}
    assert clocks_recount_batch(run_id=run.pk, size=2) is False  # a late duplicate: nothing


def test_a_queues_recount_counts_only_its_own_leads(three_routed):
    other = queue_with_reps(UserFactory(role=Role.SALES_REP))
    Lead.objects.filter(pk=three_routed[0].pk).update(queue=other)
    run = clocks_recount_run_create(why="hours", queue_id=other.pk)
    recount_clocks(run.pk)
    run.refresh_from_db()
    assert (run.total, run.done) == (1, 1)
    assert Lead.objects.get(pk=three_routed[0].pk).due_at == at(2026, 11, 30, 10, 0)
    assert Lead.objects.get(pk=three_routed[1].pk).due_at == at(2026, 11, 30, 13, 0)


def test_the_agreement_page_shows_the_recounts_progress_and_polls_it(three_routed, client):
    run = clocks_recount_run_create(why="v2 became active")
    clocks_recount_batch(run_id=run.pk, size=1)
    client.force_login(UserFactory(role=Role.SALES_MANAGER))

    page = client.get(reverse("scoring:agreement")).content.decode()
    assert 'id="clocks-progress"' in page and 'data-running="1"' in page
    assert "Counting the due times again: v2 became active" in page
    assert "1 of 3 open leads&#x27; due times counted again so far." in page
    assert 'href="/agreement/#clocks">Refresh</a>' in page  # without JavaScript
    progress = client.get(reverse("scoring:rescore_progress", kwargs={"pk": run.pk})).json()
    assert progress == {
        "kind": "clocks",
        "version": None,
        "total": 3,
        "done": 1,
        "qualified": 0,
        "percent": 33,
        "finished": False,
        "failed": False,
        "words": "1 of 3 open leads' due times counted again so far.",
        "resumed": "",
    }


def test_a_version_becoming_active_starts_a_recount_with_its_progress_row(
    three_routed, django_capture_on_commit_callbacks
):
    from scoring.models import Agreement
    from scoring.services import agreement_sign

    version = Agreement.objects.latest("version").version + 1
    proposal = Agreement.objects.create(
        version=version,
        time_zone="Europe/Berlin",
        business_opens=datetime.time(9),
        business_closes=datetime.time(17),
        accept_within_minutes=30,
    )
    CriterionFactory(agreement=proposal)
    Agreement.objects.filter(pk=proposal.pk).update(proposed_at=at(2026, 11, 30, 9, 5))
    with django_capture_on_commit_callbacks(execute=True):
        agreement_sign(agreement=proposal, by=UserFactory(role=Role.SALES_MANAGER), side="sales")
        agreement_sign(
            agreement=proposal, by=UserFactory(role=Role.MARKETING_MANAGER), side="marketing"
        )

    run = RescoreRun.objects.get(kind=RescoreRun.Kind.CLOCKS)
    assert run.why == f"v{proposal.version} became active"
    assert (run.total, run.done) == (3, 3) and run.finished_at is not None
    assert set(Lead.objects.values_list("due_at", flat=True)) == {at(2026, 11, 30, 9, 30)}
