"""The page reads the facts in as few passes as its panels allow: the funnel and lead quality
share one grouped count, both service-level tables one, and the speed panels read the period
from its index alone (docs/performance.md: each pass over a million leads' period costs
tens of milliseconds whatever it counts)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Stage
from portal.accounts.roles import Role
from portal.dashboard import selectors
from portal.dashboard.facts import facts_fresh
from portal.dashboard.selectors import Filters
from portal.dashboard.tables import all_tables
from tests.factories import FormFactory, LeadFactory, QueueFactory, UserFactory
from tests.portal.dashboard.helpers import WAY, lead_through, submitted

pytestmark = pytest.mark.django_db


def _history():
    webinar = FormFactory(name="Webinar")
    for stages, source in [(WAY, "ads"), ((Stage.QUALIFIED, Stage.ROUTED), "mail")]:
        submitted(lead_through(*stages, source_form=webinar, campaign="Spring"), utm_source=source)
    lead_through(Stage.QUALIFIED, Stage.ROUTED, Stage.REJECTED, reason_code="no_budget")
    facts_fresh()


def _facts_reads(queries) -> list[str]:
    """The queries that read the facts' rows (not the check for marks to fold)."""
    return [q["sql"] for q in queries if "dashboard_leadfacts" in q["sql"]]


def test_every_panel_of_the_page_from_eight_reads_of_the_facts():
    """Funnel + quality (one grouped count), quality's criteria, speed figures, speed trend,
    team, scores, service levels (one grouped count), and the fair shares' assignments of
    the leads in view: ten before the panels shared them."""
    _history()
    with CaptureQueriesContext(connection) as captured:
        tables = all_tables(Filters())
    reads = [sql for sql in _facts_reads(captured.captured_queries) if "factsstale" not in sql]
    assert len(reads) == 8, "\n\n".join(reads)
    assert tables["funnel"].rows[0][1] == 3
    assert tables["quality-form"].rows[0][0] == "Webinar"


def test_the_funnel_from_any_grouping_of_the_counts_equals_its_own_count():
    _history()
    alone = selectors.funnel(filters=Filters())
    for fields in (["form_id"], ["campaign", "source"], ["form_id", "campaign", "source"]):
        groups = selectors.lead_counts(filters=Filters(), fields=fields)
        assert selectors.funnel(filters=Filters(), groups=groups) == alone, fields


def test_forms_of_one_name_are_one_row_of_quality_as_the_join_by_name_made_them():
    """Quality groups forms by id and names them after: two forms called alike still read
    as one row, their leads added up."""
    for form in (FormFactory(name="Contact"), FormFactory(name="Contact")):
        lead_through(Stage.QUALIFIED, source_form=form)
    facts_fresh()
    rows = selectors.quality_by(filters=Filters(), dimension="form")
    assert [(row["key"], row["volume"], row["qualified"]) for row in rows] == [("Contact", 2, 2)]


def test_a_queue_is_listed_for_its_steps_due_not_for_a_rep_held_lead_without_one():
    """Both service-level tables come from one grouped pass over the leads that owe a step
    or whose step a rep held; a queue is listed only when one of its leads owed a step (as
    its own query listed it), the rep for any step they held."""
    ana = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Silva")
    north, south = QueueFactory(name="North"), QueueFactory(name="South")
    now = timezone.now()
    LeadFactory(queue=north, owner=ana, accept_due_at=now, accept_met_at=now, accept_rep=ana)
    LeadFactory(queue=south, owner=ana, contact_rep=ana)  # held, nothing owed
    facts_fresh()
    both = selectors.compliance(filters=Filters(), now=now)
    assert [row["key"] for row in both["queue"]] == ["North"]
    assert [(row["key"], row["accept_due"], row["contact_due"]) for row in both["rep"]] == [
        ("Ana Silva", 1, 0)
    ]
    assert both["queue"] == selectors.compliance_by_queue(filters=Filters(), now=now)
    assert both["rep"] == selectors.compliance_by_rep(filters=Filters(), now=now)


@pytest.mark.postgres
def test_the_speed_panels_read_the_period_from_its_index_alone():
    """The period's index carries the timestamps the speed figures and their weekly trend
    read (first action, routed, first contact): an index-only scan, no heap row a lead."""
    _history()
    filters = Filters(since=timezone.now() - timedelta(days=90))
    with CaptureQueriesContext(connection) as captured:
        selectors.speed_to_lead(filters=filters)
    reads = [sql for sql in _facts_reads(captured.captured_queries) if "factsstale" not in sql]
    assert len(reads) == 2
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        for sql in reads:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(line for (line,) in cursor.fetchall())
            assert "Index Only Scan using leadfacts_created_idx" in plan, plan
