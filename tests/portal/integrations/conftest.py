import pytest

from leads.models import Stage, Submission
from portal.accounts.roles import Role
from portal.integrations.api.services import token_create
from tests.factories import FormFactory, LeadFactory, UserFactory

ANON, REP, OTHER_REP, MARKETER, MKT_MGR, SALES_MGR = (
    "anonymous",
    "rep (own lead)",
    "rep (another's lead)",
    "marketer",
    "marketing manager",
    "sales manager",
)
WHO = [ANON, REP, OTHER_REP, MARKETER, MKT_MGR, SALES_MGR]
ROLES = {
    REP: Role.SALES_REP,
    OTHER_REP: Role.SALES_REP,
    MARKETER: Role.MARKETER,
    MKT_MGR: Role.MARKETING_MANAGER,
    SALES_MGR: Role.SALES_MANAGER,
}


def statuses(anon, rep, other_rep, marketer, mkt_mgr, sales_mgr) -> dict[str, int]:
    return dict(zip(WHO, [anon, rep, other_rep, marketer, mkt_mgr, sales_mgr], strict=True))


class World:
    """A routed lead owned by REP, with a submission and its events; a token per role."""

    def __init__(self):
        self.users = {who: UserFactory(role=role) for who, role in ROLES.items()}
        self.form = FormFactory()
        self.lead = LeadFactory(stage=Stage.ROUTED, owner=self.users[REP], source_form=self.form)
        self.submission = Submission.objects.create(
            form=self.form,
            lead=self.lead,
            form_version=self.form.current_version,
            payload={"email": self.lead.email},
        )
        self.event = self.lead.events.create(
            kind="submission_received", reason="Received by the test."
        )
        self.tokens = {
            who: token_create(user=user, name="test")[1] for who, user in self.users.items()
        }

    def headers(self, who: str) -> dict[str, str]:
        if who == ANON:
            return {}
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world(db) -> World:
    return World()
