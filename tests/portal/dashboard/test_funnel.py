import pytest

from leads.models import LostReason, RejectionReason, Stage
from portal.dashboard.facts import facts_fresh
from portal.dashboard.selectors import Filters, funnel
from tests.portal.dashboard.helpers import WAY, lead_imported_as, lead_through

pytestmark = pytest.mark.django_db

R, A, C, OPP = Stage.ROUTED, Stage.ACCEPTED, Stage.CONTACTED, Stage.OPPORTUNITY


@pytest.fixture
def histories():
    """Eleven leads, each history written out; the expected counts below are by hand."""
    return {
        "captured only": lead_through(),
        "disqualified": lead_through(Stage.DISQUALIFIED),
        "disqualified, then qualified": lead_through(Stage.DISQUALIFIED, Stage.QUALIFIED),
        "won": lead_through(*WAY),
        "rejected twice": lead_through(
            Stage.QUALIFIED, R, Stage.REJECTED, R, Stage.REJECTED, reason_code="no_budget"
        ),
        "rejected, recycled": lead_through(
            Stage.QUALIFIED, R, Stage.REJECTED, Stage.RECYCLED, reason_code=""
        ),
        "accepted, recycled": lead_through(Stage.QUALIFIED, R, A, Stage.RECYCLED),
        "lost": lead_through(Stage.QUALIFIED, R, A, C, OPP, Stage.LOST, reason_code="price"),
        "imported won": lead_imported_as(Stage.WON),
        "imported lost": lead_imported_as(Stage.LOST, reason_code="competitor"),
        "imported rejected": lead_imported_as(Stage.REJECTED, reason_code="wrong_territory"),
    }


def test_each_stage_counts_the_leads_that_reached_or_passed_it(histories):
    result = funnel(filters=Filters())
    reached = {row["stage"]: row["reached"] for row in result["stages"]}
    # By hand: which of the eleven reached or passed each stage.
    assert reached == {
        Stage.CAPTURED: 11,
        # all but "captured only" and "disqualified"
        Stage.QUALIFIED: 9,
        # less "disqualified, then qualified" (still qualified, never routed)
        Stage.ROUTED: 8,
        # won, accepted-recycled, lost, imported won, imported lost
        Stage.ACCEPTED: 5,
        Stage.CONTACTED: 4,
        Stage.OPPORTUNITY: 4,
        Stage.WON: 2,
    }


def test_an_imported_won_lead_counts_as_qualified_and_accepted():
    lead_imported_as(Stage.WON)
    reached = {row["stage"]: row["reached"] for row in funnel(filters=Filters())["stages"]}
    assert reached == dict.fromkeys([Stage.CAPTURED, *WAY], 1)


def test_conversion_is_the_share_of_the_stage_before(histories):
    rows = funnel(filters=Filters())["stages"]
    assert rows[0]["conversion"] is None
    by_stage = {row["stage"]: row["conversion"] for row in rows}
    assert by_stage[Stage.QUALIFIED] == round(100 * 9 / 11, 1)
    assert by_stage[Stage.ACCEPTED] == round(100 * 5 / 8, 1)
    assert by_stage[Stage.WON] == 50.0


def test_side_exits_count_leads_once_and_by_reason(histories):
    exits = {row["stage"]: row for row in funnel(filters=Filters())["exits"]}
    assert exits[Stage.DISQUALIFIED]["leads"] == 2
    assert exits[Stage.RECYCLED]["leads"] == 2
    # "rejected twice" once; "rejected, recycled"; "imported rejected"
    assert exits[Stage.REJECTED]["leads"] == 3
    rejected = {r["label"]: r["leads"] for r in exits[Stage.REJECTED]["reasons"]}
    assert rejected == {
        RejectionReason.NO_BUDGET.label: 1,
        RejectionReason.WRONG_TERRITORY.label: 1,
        "No reason given": 1,
    }
    lost = {r["label"]: r["leads"] for r in exits[Stage.LOST]["reasons"]}
    assert lost == {LostReason.PRICE.label: 1, LostReason.COMPETITOR.label: 1}


def test_an_empty_view_has_zeros_and_no_conversion():
    result = funnel(filters=Filters(campaign="nothing"))
    assert [row["reached"] for row in result["stages"]] == [0] * 7
    assert all(row["conversion"] is None for row in result["stages"])
    assert all(row["leads"] == 0 for row in result["exits"])


def test_the_funnel_is_one_query_however_many_leads(django_assert_num_queries, histories):
    facts_fresh()  # what the set-up marked, folded
    with django_assert_num_queries(2):  # the check that nothing is left to fold, the count
        funnel(filters=Filters())
