"""A manager's "Needs action" filtered by a stage without a clock (contacted, opportunity) or
by a due state reads only the leads it shows: the stage's own in `(stage, stage_changed_at)`,
the overdue ones as a range of `lead_open_idx` (docs/inbox.md). At 1,000,000 leads the stage
walked every open clock first (142,543 rows, 236-950 ms) and the due state, a computed
column, read every open lead (80 ms)."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.inbox.selectors import DUE_SOON, OVERDUE, InboxFilters, capped_count, inbox
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from tests.factories import FormFactory, QueueFactory, UserFactory
from tests.plans import rows_discarded

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan"),
]

CLOCKED, UNCLOCKED, OVERDUE_LEADS = 4_000, 4_000, 5


@pytest.fixture
def manager_and_now():
    """Many routed leads with a running clock (a few overdue), as many contacted ones without."""
    rep, manager = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_MANAGER)
    queue, form = QueueFactory(), FormFactory()
    now = timezone.now()

    def lead(n, stage, due_at=None):
        return Lead(
            email=f"lead{n}@acme.example", stage=stage, owner=rep, queue=queue,
            source_form=form, due_at=due_at, stage_changed_at=now - timedelta(minutes=n),
        )  # fmt: skip

    late = [now - timedelta(hours=n + 1) for n in range(OVERDUE_LEADS)]
    Lead.objects.bulk_create(
        [lead(n, Stage.ROUTED, now + timedelta(minutes=n + 1)) for n in range(CLOCKED)]
        + [lead(CLOCKED + n, Stage.CONTACTED) for n in range(UNCLOCKED)]
        + [lead(9 * CLOCKED + n, Stage.ROUTED, due) for n, due in enumerate(late)]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    return manager, now


def test_a_stage_without_a_clock_is_read_from_its_own_leads(manager_and_now):
    manager, now = manager_and_now
    box = inbox(user=manager, filters=InboxFilters(stage=Stage.CONTACTED), now=now)
    page = list(box.leads[:25])
    assert {lead.stage for lead in page} == {Stage.CONTACTED}
    assert [lead.stage_changed_at for lead in page] == sorted(
        lead.stage_changed_at for lead in page
    )  # oldest move first, as the tab's order puts leads without a due time
    assert rows_discarded(box.leads.all()[:25]) < 100


def test_a_due_state_is_read_as_a_range_of_due_times(manager_and_now):
    manager, now = manager_and_now
    box = inbox(user=manager, filters=InboxFilters(due=OVERDUE), now=now)
    assert [lead.due_state for lead in box.leads] == [OVERDUE] * OVERDUE_LEADS
    assert box.listed == OVERDUE_LEADS
    assert rows_discarded(box.leads.all()[:25]) < 100
    assert rows_discarded(box.leads.order_by()[:1001]) < 100  # what `capped_count` reads
    assert capped_count(box.leads, 1000) == OVERDUE_LEADS


def _capped_count_reads(leads) -> set[str]:
    """How the plan of `capped_count` reads `leads_lead`: each node's type."""
    with CaptureQueriesContext(connection) as counted:
        capped_count(leads, 1000)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + counted.captured_queries[0]["sql"])
        plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan

    def reads(node) -> set[str]:
        own = {node["Node Type"]} if node.get("Relation Name") == "leads_lead" else set()
        return own.union(*(reads(child) for child in node.get("Plans", [])))

    return reads(plan[0]["Plan"])


# VACUUM runs outside a transaction.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_due_soon_is_counted_from_lead_open_idx_alone(manager_and_now):
    """With few leads due soon the count reads every future clock: from the index, not the
    table (at 1,000,000 leads 135,630 clocks, 100-180 ms from the table, 13 ms from it)."""
    manager, now = manager_and_now
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE leads_lead")  # the visibility map an index-only scan needs
    leads = inbox(user=manager, filters=InboxFilters(due=DUE_SOON), now=now).leads
    assert _capped_count_reads(leads) == {"Index Only Scan"}
