"""Edits, signatures and drafts at the same moment, against PostgreSQL."""

import time
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Event

import pytest
from django.db import connection, transaction

from portal.accounts.roles import Role
from scoring.models import Agreement, ProposedAgreementChange
from scoring.services import agreement_draft_from, agreement_propose
from tests.factories import CriterionFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def in_threads(*calls):
    def run(call):
        try:
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.exception() or future.result() for future in futures]


def test_simultaneous_drafts_get_consecutive_versions():
    source = Agreement.objects.create(version=1)
    CriterionFactory(agreement=source)
    drafters = UserFactory.create_batch(6, role=Role.ADMIN)
    start = Barrier(len(drafters))

    def draft(by):
        start.wait()
        return agreement_draft_from(agreement=source, by=by).version

    versions = in_threads(*[lambda by=by: draft(by) for by in drafters])

    assert sorted(versions) == [2, 3, 4, 5, 6, 7]
    assert all(
        agreement.criteria.count() == 1 for agreement in Agreement.objects.filter(version__gt=1)
    )


@pytest.mark.parametrize("edit", ["criterion", "threshold"])
def test_an_edit_waiting_on_a_proposal_is_refused_once_it_is_proposed(edit):
    agreement = Agreement.objects.create(version=1)
    criterion = CriterionFactory(agreement=agreement, points=50)
    sales = UserFactory(role=Role.SALES_MANAGER)
    proposing = Event()

    def propose():
        with transaction.atomic():
            agreement_propose(agreement=agreement, by=sales)
            proposing.set()
            time.sleep(0.5)  # the edit arrives while the proposal is not yet committed

    def change():
        proposing.wait()
        if edit == "criterion":
            criterion.points = 5000
            criterion.save()
        else:
            stale = Agreement.objects.get(pk=agreement.pk)
            stale.threshold = 99
            stale.save()

    _, outcome = in_threads(propose, change)

    assert isinstance(outcome, ProposedAgreementChange)
    agreement.refresh_from_db()
    assert agreement.proposed_by == sales
    assert (agreement.threshold, agreement.criteria.get().points) == (0, 50)
