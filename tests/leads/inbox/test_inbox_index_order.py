"""A rep's inbox reads its page in an index's order: its cost follows the page, not the number
of leads the rep owns (the 30-minute soak's inbox grew with every lead routed to a rep while
each request sorted all of them)."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from leads.inbox.selectors import NEEDS_ACTION, InboxFilters, inbox
from leads.lifecycle import OPEN_STAGES
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_open_leads_index_covers_exactly_the_open_stages():
    index = next(i for i in Lead._meta.indexes if i.name == "lead_owner_open_idx")
    stages = dict(index.condition.children)["stage__in"]
    assert set(stages) == set(OPEN_STAGES)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan")
@pytest.mark.parametrize(
    ("tab", "stage"),
    [(NEEDS_ACTION, ""), (NEEDS_ACTION, Stage.ROUTED), ("won", ""), ("rejected", ""), ("all", "")],
)
def test_a_reps_page_is_read_in_index_order_not_sorted(tab, stage):
    rep = UserFactory(role=Role.SALES_REP)
    now = timezone.now()
    for n, each in enumerate([Stage.ROUTED, Stage.ACCEPTED, Stage.WON, Stage.REJECTED] * 5):
        LeadFactory(owner=rep, stage=each, stage_changed_at=now, due_at=now if n % 2 else None)
    page = inbox(user=rep, filters=InboxFilters(tab=tab, stage=stage), now=now).leads[:25]
    with transaction.atomic(), connection.cursor() as cursor:
        # With sorting priced out, the plan still sorts unless an index yields the order.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = page.explain()
    assert "Sort" not in plan, plan
    assert "lead_owner_" in plan, plan
