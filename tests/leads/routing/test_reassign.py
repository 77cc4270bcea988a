import pytest

from leads.lifecycle import IllegalMove
from leads.models import LeadEvent, Stage
from leads.routing.models import Assignment
from leads.routing.selectors import REASSIGNABLE, active_reps
from leads.routing.services import lead_reassign
from portal.accounts.roles import Role
from portal.errors import DomainError, PermissionDenied
from tests.factories import LeadFactory, UserFactory, queue_with_reps

pytestmark = pytest.mark.django_db

Kind = LeadEvent.Kind


@pytest.fixture
def ana():
    return UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Souza")


@pytest.fixture
def bruno():
    return UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Lima")


@pytest.fixture
def manager():
    return UserFactory(role=Role.SALES_MANAGER, first_name="Sara", last_name="Salles")


def test_a_manager_gives_a_reps_lead_to_another_rep(ana, bruno, manager):
    queue = queue_with_reps(ana, bruno)
    lead = LeadFactory(stage=Stage.ACCEPTED, owner=ana, queue=queue)

    assignment = lead_reassign(lead=lead, to_rep=bruno, by=manager, reason="Ana is on leave.")

    lead.refresh_from_db()
    assert (lead.owner, lead.stage, lead.queue) == (bruno, Stage.ACCEPTED, queue)
    assert (assignment.lead, assignment.rep, assignment.assigned_by) == (lead, bruno, manager)
    event = lead.events.get()
    assert (event.kind, event.actor, event.data) == (
        Kind.REASSIGNED,
        manager,
        {"from_rep": ana.pk, "to_rep": bruno.pk},
    )
    assert event.reason == (
        "Sara Salles gave the lead from Ana Souza to Bruno Lima: Ana is on leave."
    )


def test_reassigning_a_rejected_lead_routes_it_again(ana, bruno, manager):
    lead = LeadFactory(stage=Stage.REJECTED, owner=ana)

    lead_reassign(lead=lead, to_rep=bruno, by=manager, reason="Bruno covers Portugal.")

    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (bruno, Stage.ROUTED)
    moved, reassigned = lead.events.order_by("id")
    assert (moved.kind, moved.from_stage, moved.to_stage, moved.actor) == (
        Kind.STAGE_CHANGED,
        Stage.REJECTED,
        Stage.ROUTED,
        manager,
    )
    assert moved.reason == "Sara Salles sent the lead back to sales."
    assert (reassigned.kind, reassigned.reason) == (
        Kind.REASSIGNED,
        "Sara Salles gave the lead from Ana Souza to Bruno Lima: Bruno covers Portugal.",
    )


def test_a_rejected_lead_may_go_back_to_the_rep_who_rejected_it(ana, manager):
    lead = LeadFactory(stage=Stage.REJECTED, owner=ana)
    lead_reassign(lead=lead, to_rep=ana, by=manager, reason="It is in your territory after all.")
    lead.refresh_from_db()
    assert (lead.owner, lead.stage) == (ana, Stage.ROUTED)


def test_a_lead_is_not_reassigned_to_the_rep_who_has_it(ana, manager):
    lead = LeadFactory(stage=Stage.CONTACTED, owner=ana)
    with pytest.raises(DomainError) as refused:
        lead_reassign(lead=lead, to_rep=ana, by=manager, reason="Again.")
    assert refused.value.field == "to_rep"
    assert not Assignment.objects.exists()


@pytest.mark.parametrize("stage", sorted(set(Stage.values) - REASSIGNABLE))
def test_a_lead_nobody_is_working_is_not_reassigned(ana, bruno, manager, stage):
    lead = LeadFactory(stage=stage, owner=ana)
    with pytest.raises(IllegalMove, match="it cannot be reassigned") as refused:
        lead_reassign(lead=lead, to_rep=bruno, by=manager, reason="Why not.")
    assert refused.value.status == 409
    lead.refresh_from_db()
    assert (lead.owner, lead.events.count()) == (ana, 0)


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.MARKETER, Role.MARKETING_MANAGER])
def test_only_those_allowed_to_reassign_may(ana, bruno, role):
    lead = LeadFactory(stage=Stage.ROUTED, owner=ana)
    with pytest.raises(PermissionDenied):
        lead_reassign(lead=lead, to_rep=bruno, by=UserFactory(role=role), reason="Mine.")
    lead.refresh_from_db()
    assert lead.owner == ana


def test_an_admin_may_reassign(ana, bruno):
    admin = UserFactory(role=Role.ADMIN)
    lead_reassign(
        lead=LeadFactory(stage=Stage.ROUTED, owner=ana), to_rep=bruno, by=admin, reason="Cover."
    )
    assert Assignment.objects.get().assigned_by == admin


@pytest.mark.parametrize(
    "target",
    [
        lambda: UserFactory(role=Role.MARKETER),
        lambda: UserFactory(role=Role.SALES_REP, is_active=False),
        lambda: UserFactory(is_superuser=True),
    ],
    ids=["marketer", "inactive-rep", "superuser"],
)
def test_the_lead_goes_only_to_an_active_sales_rep(ana, manager, target):
    lead = LeadFactory(stage=Stage.ROUTED, owner=ana)
    with pytest.raises(DomainError) as refused:
        lead_reassign(lead=lead, to_rep=target(), by=manager, reason="Try.")
    assert refused.value.field == "to_rep"
    lead.refresh_from_db()
    assert lead.owner == ana


def test_a_reassignment_says_why(ana, bruno, manager):
    with pytest.raises(DomainError) as refused:
        lead_reassign(
            lead=LeadFactory(stage=Stage.ROUTED, owner=ana), to_rep=bruno, by=manager, reason=" "
        )
    assert refused.value.field == "reason"


def test_active_reps_are_the_users_who_work_leads_of_their_own(ana, bruno, manager):
    UserFactory(role=Role.MARKETER)
    UserFactory(role=Role.SALES_REP, is_active=False)
    UserFactory(is_superuser=True)
    # Sales managers hold leads.work_lead too, but their inbox is every lead: not a rep.
    assert set(active_reps()) == {ana, bruno}
