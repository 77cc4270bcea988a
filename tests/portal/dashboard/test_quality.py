import pytest

from leads.models import Stage
from portal.dashboard.selectors import Filters, quality_by
from tests.factories import FormFactory
from tests.portal.dashboard.helpers import WAY, lead_imported_as, lead_through, submitted

pytestmark = pytest.mark.django_db

R = Stage.ROUTED


def test_quality_by_source_counts_rates_and_the_top_rejection():
    ads = [
        lead_through(*WAY),
        lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="no_budget"),
        lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="no_budget"),
        lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="competitor"),
        lead_through(Stage.DISQUALIFIED),
    ]
    for lead in ads:
        submitted(lead, utm_source="ads")
    olist = [
        lead_imported_as(Stage.WON, attributes={"origin": "paid_search"}),
        lead_imported_as(Stage.LOST, attributes={"origin": "paid_search"}),
    ]
    rows = {row["key"]: row for row in quality_by(filters=Filters(), dimension="source")}
    assert rows["ads"] == {
        "key": "ads",
        "volume": 5,
        "qualified": 4,
        "qualification_rate": 80.0,
        "accepted": 1,
        "acceptance_rate": 25.0,
        "rejected": 3,
        "top_rejection": "No budget (2)",
        "won": 1,
        "win_rate": 25.0,
    }
    paid = rows["paid_search"]
    assert (paid["volume"], paid["qualified"], paid["accepted"], paid["won"]) == (2, 2, 2, 1)
    assert paid["win_rate"] == 50.0
    assert len(olist) == paid["volume"]


def test_quality_by_form_names_the_form():
    webinar = FormFactory(name="Webinar")
    lead_through(Stage.QUALIFIED, source_form=webinar)
    lead_through(source_form=webinar)
    rows = quality_by(filters=Filters(), dimension="form")
    assert [(r["key"], r["volume"], r["qualified"]) for r in rows] == [("Webinar", 2, 1)]


def test_quality_is_two_queries(django_assert_num_queries):
    lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="no_budget")
    with django_assert_num_queries(2):
        quality_by(filters=Filters(), dimension="source")
