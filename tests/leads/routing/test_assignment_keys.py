"""An assignment's lead, queue and rep, and a lead's accept/contact rep, have no constraints in
the database (the lead row's own constraints on its owner and queue hold the same rows while
they are written): Django still cascades, protects and sets null on delete."""

import pytest
from django.db import connection
from django.db.models import ProtectedError

from leads.models import Lead, Stage
from leads.routing.models import Assignment
from leads.routing.services import lead_reassign, lead_route
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory, queue_with_reps


def _foreign_keys(table: str) -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {c["columns"][0] for c in found.values() if c["foreign_key"]}


@pytest.mark.django_db
def test_the_database_checks_none_of_an_assignments_keys_nor_a_leads_step_reps():
    assert not _foreign_keys("routing_assignment") & {"lead_id", "queue_id", "rep_id"}
    assert {"owner_id", "queue_id"} <= _foreign_keys("leads_lead")  # the lead's own hold them
    assert not _foreign_keys("leads_lead") & {"accept_rep_id", "contact_rep_id"}


@pytest.mark.django_db
def test_without_database_keys_django_still_protects_a_rep_and_queue_and_cascades_a_lead():
    first, second = UserFactory.create_batch(2, role=Role.SALES_REP)
    queue = queue_with_reps(first)
    lead = LeadFactory(stage=Stage.QUALIFIED)
    routed = lead_route(lead_id=lead.pk)
    manager = UserFactory(role=Role.SALES_MANAGER)
    lead_reassign(lead=lead, to_rep=second, by=manager, reason="Covers the account.")
    lead.refresh_from_db()
    assert lead.owner == second

    with pytest.raises(ProtectedError) as held:  # no lead of theirs: their assignment holds
        first.delete()
    assert routed in held.value.protected_objects
    lead.queue = None
    lead.save(update_fields=["queue"])
    with pytest.raises(ProtectedError):  # the queue's assignment holds it
        queue.delete()

    Lead.objects.filter(pk=lead.pk).delete()
    assert not Assignment.objects.filter(lead_id=lead.pk).exists()
