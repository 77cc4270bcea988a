"""The what-if against a fixture counted by hand."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import LeadEvent, RejectionReason, Stage
from portal.accounts.roles import Role
from scoring.models import Agreement, Criterion
from scoring.whatif import whatif
from tests.factories import (
    AgreementFactory,
    CriterionFactory,
    FormFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def went(lead, *stages, reason_code=""):
    """Record the stage changes sales made, as the lifecycle writes them."""
    before = lead.stage
    for stage in stages:
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.STAGE_CHANGED,
            from_stage=before,
            to_stage=stage,
            reason="test",
            reason_code=reason_code if stage == Stage.REJECTED else "",
        )
        before = stage


@pytest.fixture
def fixture():
    """Active v1: company size at least 50 (mandatory), threshold 0.
    Proposal v2: company size at least 20 and country one of Brazil (both mandatory).

    | lead | size | country | v1  | v2  | sales did            |
    | A    | 100  | Brazil  | yes | yes | -                    |
    | B    | 100  | France  | yes | no  | routed, rejected (wrong territory) |
    | C    | 30   | Brazil  | no  | yes | - (disqualified)     |
    | D    | 30   | France  | no  | no  | -                    |
    | E    | 10   | Brazil  | no  | no  | -                    |
    | F    | 200  | Chile   | yes | no  | routed, accepted, ..., won |
    | G    | 60   | Brazil  | yes | yes | -                    |
    | H    | 30   | Brazil  | (created 120 days ago: outside the 90 days) |

    Hand count over the 7 leads of the last 90 days: v1 qualifies A, B, F, G = 4; v2
    qualifies A, C, G = 3. Under v2 the country fails B, D, F = 3 and the size fails E = 1;
    under v1 the size fails C, D, E = 3. Gained by v2: C (1 lead, never reached sales).
    Dropped by v2: B and F (2 leads, both reached sales; 1 accepted, 1 rejected for wrong
    territory: acceptance 1/2 = 50 %; 1 won of 1 accepted: win rate 100 %).
    """
    active = AgreementFactory(version=1)  # company size at least 50
    proposal = Agreement.objects.create(version=2, threshold=0)
    CriterionFactory(agreement=proposal, value=20)
    CriterionFactory(
        agreement=proposal,
        label="Territory",
        attribute="country",
        operator=Criterion.Operator.ONE_OF,
        value=["Brazil"],
        position=1,
    )
    form = FormFactory()
    leads = {}
    for name, size, country in [
        ("a", 100, "Brazil"),
        ("b", 100, "France"),
        ("c", 30, "Brazil"),
        ("d", 30, "France"),
        ("e", 10, "Brazil"),
        ("f", 200, "Chile"),
        ("g", 60, "Brazil"),
        ("h", 30, "Brazil"),
    ]:
        leads[name] = LeadFactory(
            email=f"{name}@acme.example",
            source_form=form,
            attributes={"company_size": str(size), "country": country},
        )
    leads["h"].created_at = timezone.now() - timedelta(days=120)
    leads["h"].save(update_fields=["created_at"])
    went(leads["b"], Stage.QUALIFIED, Stage.ROUTED, Stage.REJECTED, reason_code="wrong_territory")
    went(leads["f"], Stage.QUALIFIED, Stage.ROUTED, Stage.ACCEPTED, Stage.CONTACTED)
    leads["f"].stage = Stage.WON
    leads["f"].save(update_fields=["stage"])
    return active, proposal


def test_whatif_counts_match_the_hand_count(fixture):
    active, proposal = fixture
    result = whatif(proposal=proposal, against=active, days=90)
    assert result.leads == 7
    assert result.proposal.qualified == 3
    assert result.against.qualified == 4
    assert [(f.label, f.failed) for f in result.proposal.failures] == [
        ("Territory", 3),
        ("Company size", 1),
    ]
    assert [(f.label, f.failed) for f in result.against.failures] == [("Company size", 3)]
    assert (result.gained.leads, result.gained.reached_sales) == (1, 0)
    dropped = result.dropped
    assert (dropped.leads, dropped.reached_sales) == (2, 2)
    assert (dropped.accepted, dropped.rejected, dropped.won) == (1, 1, 1)
    assert dropped.acceptance == 0.5
    assert dropped.win_rate == 1.0
    assert dropped.rejection_reasons == [(RejectionReason.WRONG_TERRITORY.label, 1)]


def test_a_longer_window_takes_the_older_lead_in(fixture):
    active, proposal = fixture
    result = whatif(proposal=proposal, against=active, days=180)
    assert result.leads == 8
    assert result.gained.leads == 2  # C and H


def test_without_a_version_to_compare_with_only_the_proposal_is_counted(fixture):
    _active, proposal = fixture
    result = whatif(proposal=proposal, against=None)
    assert (result.leads, result.proposal.qualified, result.against) == (7, 3, None)
    assert result.changed == 0


def test_the_whatif_reads_the_leads_in_a_few_queries_however_many(
    fixture, django_assert_max_num_queries
):
    active, proposal = fixture
    form = FormFactory()
    LeadFactory.create_batch(50, source_form=form, attributes={"company_size": "70"})
    with django_assert_max_num_queries(8):
        result = whatif(proposal=proposal, against=active)
    assert result.leads == 57


def test_both_managers_see_the_whatif_on_the_proposal_page(fixture, client):
    _active, proposal = fixture
    for role in (Role.SALES_MANAGER, Role.MARKETING_MANAGER):
        client.force_login(UserFactory(role=role))
        page = client.get(reverse("scoring:version", kwargs={"version": proposal.version}))
        section = page.content.decode()
        assert 'id="whatif"' in section
        assert "7 leads since" in section
        assert "1 would qualify" in section
        assert "2 would no longer qualify" in section
        assert "Rejected for: wrong territory (1)" in section


def test_the_days_are_chosen_from_the_list(fixture, client):
    _active, proposal = fixture
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    url = reverse("scoring:version", kwargs={"version": proposal.version})
    assert "8 leads since" in client.get(url, {"days": 180}).content.decode()
    assert "7 leads since" in client.get(url, {"days": 7000}).content.decode()


def test_a_marketer_reads_the_proposal_without_the_whatif(fixture, client):
    _active, proposal = fixture
    client.force_login(UserFactory(role=Role.MARKETER))
    page = client.get(reverse("scoring:version", kwargs={"version": proposal.version}))
    assert page.status_code == 200
    assert 'id="whatif"' not in page.content.decode()


def test_the_active_version_has_no_whatif(fixture, client):
    active, _proposal = fixture
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("scoring:version", kwargs={"version": active.version}))
    assert 'id="whatif"' not in page.content.decode()
