"""Two people moving one lead at the same moment, on PostgreSQL's row locks."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from leads.inbox.services import lead_accept, lead_reject
from leads.lifecycle import IllegalMove
from leads.models import Lead, LeadEvent, RejectionReason, Stage
from leads.routing.services import lead_reassign
from portal.accounts.roles import Role
from portal.errors import DomainError
from tests.factories import LeadFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TRIALS = 10


def at_once(*calls):
    """Run each call in its own thread and connection, released together; what each did."""
    start = Barrier(len(calls))

    def run(call):
        try:
            start.wait()
            call()
            return "done"
        except DomainError as refused:
            return refused
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_accept_and_reject_at_the_same_moment_one_wins_and_the_other_is_told():
    rep = UserFactory(role=Role.SALES_REP)
    for trial in range(TRIALS):
        lead = LeadFactory(stage=Stage.ROUTED, owner=rep)

        accepted, rejected = at_once(
            lambda lead=lead: lead_accept(lead=lead, by=rep),
            lambda lead=lead: lead_reject(lead=lead, by=rep, reason=RejectionReason.NO_BUDGET),
        )

        outcomes = [accepted, rejected]
        assert outcomes.count("done") == 1, f"trial {trial}: {outcomes}"
        (lost,) = [outcome for outcome in outcomes if outcome != "done"]
        assert isinstance(lost, IllegalMove)
        assert lost.status == 409
        lead.refresh_from_db()
        winner = Stage.ACCEPTED if accepted == "done" else Stage.REJECTED
        assert lead.stage == winner
        event = LeadEvent.objects.get(lead=lead)
        assert (event.from_stage, event.to_stage) == (Stage.ROUTED, winner)


def test_a_rep_accepting_while_a_manager_reassigns_never_works_a_lead_they_lost():
    ana, bruno = UserFactory.create_batch(2, role=Role.SALES_REP)
    manager = UserFactory(role=Role.SALES_MANAGER)
    for trial in range(TRIALS):
        lead = LeadFactory(stage=Stage.ROUTED, owner=ana)

        accepted, _reassigned = at_once(
            lambda lead=lead: lead_accept(lead=lead, by=ana),
            lambda lead=lead: lead_reassign(lead=lead, to_rep=bruno, by=manager, reason="Cover."),
        )

        lead = Lead.objects.get(pk=lead.pk)
        assert lead.owner == bruno, f"trial {trial}"
        kinds = list(lead.events.values_list("kind", flat=True))
        if accepted == "done":
            # Ana was first: she accepted, then the manager gave her accepted lead to Bruno.
            assert lead.stage == Stage.ACCEPTED
            assert kinds == [LeadEvent.Kind.STAGE_CHANGED, LeadEvent.Kind.REASSIGNED]
        else:
            # The manager was first: the lead was no longer Ana's to accept.
            assert accepted.code == "permission_denied"
            assert lead.stage == Stage.ROUTED
            assert kinds == [LeadEvent.Kind.REASSIGNED]
