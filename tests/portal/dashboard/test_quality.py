import pytest
from django.utils import timezone

from leads.models import Stage
from portal.dashboard.facts import facts_fresh
from portal.dashboard.selectors import Filters, quality_by, quality_by_each
from scoring.models import CriterionResult, Qualification
from tests.factories import AgreementFactory, CriterionFactory, FormFactory
from tests.portal.dashboard.helpers import WAY, lead_imported_as, lead_through, submitted

pytestmark = pytest.mark.django_db

R = Stage.ROUTED


def _judged(submission, *, failed, passed) -> Qualification:
    """A judgement in force of the submission: `failed` criteria failed, the others passed."""
    judgement = Qualification.objects.create(
        lead=submission.lead,
        submission=submission,
        agreement=(failed or passed)[0].agreement,
        qualified=not failed,
        score=0,
        summary="T.",
    )
    for criterion in {*failed, *passed}:
        CriterionResult.objects.create(
            qualification=judgement,
            criterion=criterion,
            passed=criterion not in failed,
            points=0,
            reason="T.",
        )
    return judgement


def test_quality_by_source_counts_rates_and_the_top_rejection():
    ads = [
        lead_through(*WAY),
        lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="no_budget"),
        lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="no_budget"),
        lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="competitor"),
        lead_through(Stage.DISQUALIFIED),
    ]
    size = CriterionFactory(agreement=AgreementFactory(criteria=False))
    country = CriterionFactory(agreement=size.agreement, label="Country", attribute="country")
    failed = {0: [], 1: [size, country], 2: [size], 3: [size], 4: [country]}
    for i, lead in enumerate(ads):
        _judged(submitted(lead, utm_source="ads"), failed=failed[i], passed=[size, country])
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
        "failed_most": "Company size (3); Country (2)",
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


def test_a_superseded_judgement_does_not_count_as_a_failure():
    size = CriterionFactory(agreement=AgreementFactory(criteria=False))
    lead = lead_through(Stage.QUALIFIED)
    old = _judged(submitted(lead, utm_source="ads"), failed=[size], passed=[])
    Qualification.objects.filter(pk=old.pk).update(superseded_at=timezone.now())
    _judged(old.submission, failed=[], passed=[size])
    [row] = quality_by(filters=Filters(), dimension="source")
    assert row["failed_most"] == ""


def test_quality_is_at_most_three_queries(django_assert_max_num_queries):
    lead_through(Stage.QUALIFIED, R, Stage.REJECTED, reason_code="no_budget")
    facts_fresh()  # what the set-up marked, folded; then one query more: the check of it
    with django_assert_max_num_queries(4):
        quality_by(filters=Filters(), dimension="source")


def test_the_three_dimensions_at_once_equal_each_counted_alone(django_assert_num_queries):
    """The page reads the three from one pass (groups of form x campaign x source, added up
    per dimension): the same rows as each dimension's own query."""
    size = CriterionFactory(agreement=AgreementFactory(criteria=False))
    country = CriterionFactory(agreement=size.agreement, label="Country", attribute="country")
    webinar = FormFactory(name="Webinar")
    plans = [
        ((*WAY,), "ads", webinar, "Spring", [size]),
        ((Stage.QUALIFIED, R, Stage.REJECTED), "ads", webinar, "Autumn", [size, country]),
        ((Stage.QUALIFIED, R, Stage.REJECTED), "mail", None, "Spring", [country]),
        ((Stage.DISQUALIFIED,), "mail", webinar, "", [size, country]),
        ((Stage.QUALIFIED, R, Stage.ACCEPTED), "", None, "Autumn", []),
    ]
    for stages, source, form, campaign, failed in plans:
        kw = {"campaign": campaign, **({"source_form": form} if form else {})}
        lead = lead_through(*stages, reason_code="no_budget", **kw)
        _judged(submitted(lead, utm_source=source), failed=failed, passed=[size, country])
    lead_imported_as(Stage.WON, attributes={"origin": "paid_search"})
    facts_fresh()
    dimensions = ["form", "campaign", "source"]
    # The check of the marks, counts, failed, the criteria's labels, the forms' names.
    with django_assert_num_queries(5):
        together = quality_by_each(filters=Filters(), dimensions=dimensions)
    for dimension in dimensions:
        assert together[dimension] == quality_by(filters=Filters(), dimension=dimension)
    spring = {row["key"]: row for row in together["campaign"]}["Spring"]
    assert (spring["volume"], spring["rejected"], spring["won"]) == (2, 1, 1)
    assert spring["failed_most"] == "Company size (1); Country (1)"
