import random
import statistics
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, LeadEvent, Stage
from portal.dashboard.facts import facts_fresh
from portal.dashboard.selectors import (
    BUCKETS,
    SPEED_MEASURES,
    Filters,
    percentile,
    speed_to_lead,
)
from tests.factories import LeadFactory
from tests.portal.dashboard.helpers import event

pytestmark = pytest.mark.django_db

MIN = 60


def _lead(*, routed_after: int, acted_after: int | None, contacted_after: int | None = None):
    """A lead submitted a week ago: routed, first acted on and contacted so many minutes on."""
    created = timezone.now() - timedelta(days=7)
    lead = LeadFactory(created_at=created)
    event(lead, at=created + timedelta(minutes=routed_after), to_stage=Stage.ROUTED)
    if acted_after is not None:
        Lead.objects.filter(pk=lead.pk).update(
            first_action_at=created + timedelta(minutes=acted_after)
        )
    if contacted_after is not None:
        event(
            lead,
            at=created + timedelta(minutes=contacted_after),
            kind=LeadEvent.Kind.CONTACT_LOGGED,
        )
    return lead


def test_percentile_interpolates_like_percentile_cont():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([4, 1, 3, 2], 0.9) == pytest.approx(3.7)
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None


def test_median_and_p90_match_a_recount_and_split_routing_from_the_rep():
    plans = [(1, 10, 30), (2, 20, None), (3, 33, 60), (5, 125, 200), (4, 1000, None)]
    for routed, acted, contacted in plans:
        _lead(routed_after=routed, acted_after=acted, contacted_after=contacted)
    _lead(routed_after=2, acted_after=None)  # routed, never acted on
    LeadFactory()  # never routed
    measures = {m["measure"]: m for m in speed_to_lead(filters=Filters())["measures"]}

    def recount(values):
        values = [v * MIN for v in values]
        return len(values), statistics.median(values), percentile(values, 0.9)

    expected = {
        "first_action": recount([a for _, a, _ in plans]),
        "first_contact": recount([c for _, _, c in plans if c is not None]),
        "routing": recount([r for r, _, _ in plans] + [2]),
        "rep": recount([a - r for r, a, _ in plans]),
    }
    for name, (n, median, p90) in expected.items():
        got = measures[name]
        assert got["leads"] == n, name
        assert got["median"] == pytest.approx(median, abs=0.01), name
        assert got["p90"] == pytest.approx(p90, abs=0.01), name


def test_distribution_puts_each_lead_in_one_bucket():
    for acted in (1, 4, 6, 90, 60 * 30, 60 * 24 * 5):
        _lead(routed_after=0, acted_after=acted)
    buckets = {b["bucket"]: b["leads"] for b in speed_to_lead(filters=Filters())["distribution"]}
    assert buckets == {
        "under 5 min": 2,
        "5-15 min": 1,
        "15-60 min": 0,
        "1-4 h": 1,
        "4-24 h": 0,
        "1-3 days": 1,
        "over 3 days": 1,
    }


def test_weekly_trend_groups_by_the_week_of_submission():
    a = _lead(routed_after=0, acted_after=10)
    b = _lead(routed_after=0, acted_after=30)
    old = _lead(routed_after=0, acted_after=100)
    Lead.objects.filter(pk=old.pk).update(
        created_at=old.created_at - timedelta(days=14),
        first_action_at=old.created_at - timedelta(days=14) + timedelta(minutes=100),
    )
    weeks = speed_to_lead(filters=Filters())["weekly"]
    assert [w["leads"] for w in weeks] == [1, 2]
    assert weeks[0]["median"] == pytest.approx(100 * MIN, abs=0.01)
    assert weeks[1]["median"] == pytest.approx(20 * MIN, abs=0.01)
    assert weeks[0]["week"] < weeks[1]["week"]
    assert a.pk and b.pk


def test_each_bucket_starts_at_its_lower_bound():
    for acted in (5, 15, 60, 4 * 60, 24 * 60, 72 * 60):
        _lead(routed_after=0, acted_after=acted)
    buckets = [b["leads"] for b in speed_to_lead(filters=Filters())["distribution"]]
    assert buckets == [0, 1, 1, 1, 1, 1, 1]


def _p90(values: list[float]) -> float:
    """percentile_cont(0.9), by the standard library (linear, inclusive of the ends)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def test_every_measure_and_bucket_equals_a_recount_of_the_leads_rows():
    """Many leads, ties and leads missing a timing: each figure against the standard
    library's median and p90 of timings read back from the leads and their events."""
    draw = random.Random(20)
    for _ in range(60):
        acted = draw.choice([None, 3, 5, 5, 14, 61, 300, 2000, 5000]) or None
        contacted = draw.choice([None, None, 90, 4000])
        _lead(
            routed_after=draw.choice([0, 1, 1, 2, 7]),
            acted_after=acted,
            contacted_after=contacted if acted is not None and contacted else None,
        )
    LeadFactory()  # never routed
    speed = speed_to_lead(filters=Filters())

    timings: dict[str, list[float]] = {name: [] for name, _ in SPEED_MEASURES}
    for lead in Lead.objects.all():
        routed = lead.events.filter(to_stage=Stage.ROUTED).order_by("at").first()
        contact = lead.events.filter(kind=LeadEvent.Kind.CONTACT_LOGGED).order_by("at").first()
        since = {
            "first_action": (lead.created_at, lead.first_action_at),
            "first_contact": (lead.created_at, contact and contact.at),
            "routing": (lead.created_at, routed and routed.at),
            "rep": (routed and routed.at, lead.first_action_at),
        }
        for name, (start, end) in since.items():
            if start and end:
                timings[name].append((end - start).total_seconds())
    for measure in speed["measures"]:
        values = sorted(timings[measure["measure"]])
        assert measure["leads"] == len(values), measure
        assert measure["median"] == pytest.approx(statistics.median(values), abs=1e-6), measure
        assert measure["p90"] == pytest.approx(_p90(values), abs=1e-6), measure
    acted = timings["first_action"]
    recounted = [
        sum(1 for v in acted if v >= start and (end is None or v < end))
        for _, start, end in BUCKETS
    ]
    assert [b["leads"] for b in speed["distribution"]] == recounted
    assert sum(recounted) == len(acted)


def test_speed_to_lead_is_two_queries(django_assert_num_queries):
    """One for the percentiles and the distribution, one for the weekly trend (SQLite, the
    demo, reads the timings and works them out in Python, as many)."""
    for acted in (5, 50):
        _lead(routed_after=1, acted_after=acted)
    facts_fresh()  # what the set-up marked, folded; then one query more: the check of it
    with django_assert_num_queries(3):
        speed_to_lead(filters=Filters())
