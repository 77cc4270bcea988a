"""A manager's "Needs action" filtered by a queue (or form) with few open leads among many
closed ones: PostgreSQL reads that queue's rows, not the whole order index of open leads
discarding every other queue's (migration leads 0020: statistics of stage with queue and
form; docs/inbox.md). Without them the planner multiplies the two shares as if unrelated
and walks the index, at 200,000 leads 57,569 rows for one."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from leads.inbox.selectors import InboxFilters, inbox
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from tests.factories import FormFactory, QueueFactory, UserFactory
from tests.plans import rows_discarded

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan"),
]

BUSY, QUIET_CLOSED = 4_000, 2_000


@pytest.mark.parametrize("by", ["queue", "form"])
def test_a_filter_with_few_open_leads_reads_its_own_rows_not_every_open_lead(by):
    rep, manager = UserFactory(role=Role.SALES_REP), UserFactory(role=Role.SALES_MANAGER)
    busy = {"queue": QueueFactory(name="Busy"), "source_form": FormFactory(name="Busy")}
    quiet = {"queue": QueueFactory(name="Quiet"), "source_form": FormFactory(name="Quiet")}
    now = timezone.now()

    def lead(n, stage, **where):
        due = now + timedelta(minutes=n) if stage == Stage.ROUTED else None
        return Lead(
            email=f"lead{n}@acme.example", stage=stage, owner=rep, due_at=due,
            stage_changed_at=now, **{**busy, **where},
        )  # fmt: skip

    quiet_one = (
        {"queue": quiet["queue"]} if by == "queue" else {"source_form": quiet["source_form"]}
    )
    Lead.objects.bulk_create(
        [lead(n, Stage.ROUTED) for n in range(BUSY)]
        + [lead(BUSY + n, Stage.WON, **quiet_one) for n in range(QUIET_CLOSED)]
        + [lead(10 * BUSY, Stage.ROUTED, **quiet_one)]  # due last
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    chosen = {"queue": quiet["queue"].pk} if by == "queue" else {"form": quiet["source_form"].pk}
    leads = inbox(user=manager, filters=InboxFilters(**chosen), now=now).leads
    assert leads.count() == 1
    assert rows_discarded(leads[:25]) <= QUIET_CLOSED
