"""Service levels met, by queue and by rep, against a fixture counted by hand; the page, its
CSV and the frozen review give the same numbers."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from portal.accounts.roles import Role
from portal.dashboard.facts import facts_fresh
from portal.dashboard.selectors import Filters, compliance_by_queue, compliance_by_rep
from portal.dashboard.services import review_freeze
from tests.factories import LeadFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def step(lead_kw: dict, **steps) -> Lead:
    """A lead whose steps' records are set as the clock leaves them: for each step, (due in
    minutes from now, done minutes from now or None, rep)."""
    fields = {}
    for name, (due, done, rep) in steps.items():
        fields[f"{name}_due_at"] = NOW + timedelta(minutes=due)
        fields[f"{name}_met_at"] = None if done is None else NOW + timedelta(minutes=done)
        fields[f"{name}_rep"] = rep
    return LeadFactory(**lead_kw, **fields)


@pytest.fixture
def world():
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Silva")
    bo = UserFactory(role=Role.SALES_REP, first_name="Bo", last_name="Berg")
    north, south = QueueFactory(name="North"), QueueFactory(name="South")
    # North, Ana: accepted in time, then contacted late.
    step({"queue": north, "owner": ana}, accept=(-100, -120, ana), contact=(-10, -5, ana))
    # North, Ana: accepted exactly at the due time (in time); contact still running, not due.
    step({"queue": north, "owner": ana}, accept=(-60, -60, ana), contact=(+30, None, ana))
    # North: Bo let it run out (the ladder passed it to Ana, who accepted it later): late, Bo's.
    step({"queue": north, "owner": ana}, accept=(-50, -20, bo))
    # North, Bo: overdue now, not done: late.
    step({"queue": north, "owner": bo}, accept=(-5, None, bo))
    # South, Bo: not due yet, not done: not judged; another accepted early.
    step({"queue": south, "owner": bo}, accept=(+15, None, bo))
    step({"queue": south, "owner": bo}, accept=(+15, -1, bo), contact=(+200, None, bo))
    # No step owed (never routed): not counted anywhere.
    LeadFactory(queue=south)
    return ana, bo


# Counted by hand from the fixture above.
NORTH = {
    "key": "North",
    "accept_due": 4,
    "accept_in_time": 2,
    "accept_late": 2,
    "accept_share": 50.0,
    "contact_due": 1,
    "contact_in_time": 0,
    "contact_late": 1,
    "contact_share": 0.0,
}
SOUTH = {
    "key": "South",
    "accept_due": 1,
    "accept_in_time": 1,
    "accept_late": 0,
    "accept_share": 100.0,
    "contact_due": 0,
    "contact_in_time": 0,
    "contact_late": 0,
    "contact_share": None,
}
ANA = {
    "key": "Ana Silva",
    "accept_due": 2,
    "accept_in_time": 2,
    "accept_late": 0,
    "accept_share": 100.0,
    "contact_due": 1,
    "contact_in_time": 0,
    "contact_late": 1,
    "contact_share": 0.0,
}
BO = {
    "key": "Bo Berg",
    "accept_due": 3,
    "accept_in_time": 1,
    "accept_late": 2,
    "accept_share": 33.3,
    "contact_due": 0,
    "contact_in_time": 0,
    "contact_late": 0,
    "contact_share": None,
}


def test_compliance_by_queue_matches_the_hand_count(world):
    assert compliance_by_queue(filters=Filters(), now=NOW) == [NORTH, SOUTH]


def test_compliance_by_rep_counts_each_step_against_the_rep_who_held_it_then(world):
    assert compliance_by_rep(filters=Filters(), now=NOW) == [ANA, BO]


def test_a_queue_filter_and_an_empty_period_count_what_they_select(world):
    north = QueueFactory._meta.model.objects.get(name="North")
    assert compliance_by_queue(filters=Filters(queue=north.pk), now=NOW) == [NORTH]
    empty = Filters(since=NOW + timedelta(days=1))
    assert compliance_by_queue(filters=empty, now=NOW) == []
    assert compliance_by_rep(filters=empty, now=NOW) == []


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("panel", ["compliance-queue", "compliance-rep"])
def test_page_csv_and_review_give_the_same_numbers(client, world, panel):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("dashboard"))
    table = page.context["tables"][panel.replace("-", "_")]
    assert len(table.rows) == 2
    shown = [[str("" if cell is None else cell) for cell in row] for row in table.rows]
    exported = _csv_rows(client.get(reverse("dashboard_csv", kwargs={"panel": panel})))
    assert exported[0] == table.columns
    assert exported[1:] == shown
    assert f'data-panel="{panel}"' in page.content.decode()

    review = review_freeze(until=timezone.localdate())
    frozen = review.panel(panel)
    assert frozen["rows"] == table.rows
    reviewed = client.get(review.get_absolute_url())
    assert f'data-panel="{panel}"' in reviewed.content.decode()


def _recount_by_rep(now) -> dict[str, dict]:
    """Each rep's steps counted from the leads' own records, one lead and step at a time."""
    found: dict[str, dict] = {}
    for lead in Lead.objects.select_related("accept_rep", "contact_rep"):
        for step in ("accept", "contact"):
            rep = getattr(lead, f"{step}_rep")
            if rep is None:
                continue
            row = found.setdefault(
                rep.get_full_name() or rep.username,
                {f"{s}_{what}": 0 for s in ("accept", "contact") for what in ("due", "in_time")},
            )
            due, met = getattr(lead, f"{step}_due_at"), getattr(lead, f"{step}_met_at")
            if due is not None and (met is not None or due <= now):
                row[f"{step}_due"] += 1
            if due is not None and met is not None and met <= due:
                row[f"{step}_in_time"] += 1
    return found


def test_each_step_counts_against_its_own_rep_when_two_reps_held_one_lead(world):
    _, bo = world
    cy = UserFactory(role=Role.SALES_REP, first_name="", last_name="", username="cy")
    # Bo accepted late, then the lead was Cy's to contact, in time.
    step({"owner": cy}, accept=(-300, -200, bo), contact=(-100, -150, cy))
    # Only a contact step on record, Cy's, overdue.
    step({"owner": cy}, contact=(-1, None, cy))
    rows = {row["key"]: row for row in compliance_by_rep(filters=Filters(), now=NOW)}
    assert list(rows) == ["Ana Silva", "Bo Berg", "cy"]
    recounted = _recount_by_rep(NOW)
    for key, row in rows.items():
        assert {k: v for k, v in row.items() if k.endswith(("_due", "_in_time"))} == recounted[
            key
        ], key
    assert rows["cy"]["accept_due"] == 0 and rows["cy"]["contact_due"] == 2
    assert rows["Bo Berg"]["accept_due"] == 4 and rows["Bo Berg"]["accept_late"] == 3


def test_compliance_by_rep_reads_the_facts_once(world, django_assert_num_queries):
    facts_fresh()
    # The check that nothing is left to fold, the counts per pair of reps, the reps' names.
    with django_assert_num_queries(3):
        compliance_by_rep(filters=Filters(), now=NOW)
