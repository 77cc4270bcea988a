"""A fold's claim reads the marks once whatever the table's statistics say.

The marks are a queue every fold drains, so PostgreSQL often analyses the table while it holds
no live row; planned from those statistics, `lead_id IN (SELECT ... LIMIT n)` became a nested
loop that read the first n marks again for every mark: at 20,000 marked leads (a 20,000-lead
backlog in `bench/pipeline.py`) one fold took 26 s and the bulk worker's PostgreSQL spent
10.5 ms a lead."""

import pytest
from django.db import connection

from portal.dashboard import facts
from tests.plans import explained, nodes

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's plan"),
]


def test_the_claim_reads_the_marks_once_when_the_table_was_analysed_empty():
    assert facts.STALE == "dashboard_factsstale"
    marks = (
        "INSERT INTO dashboard_factsstale (lead_id, tx) "
        "SELECT g, t FROM generate_series(1, 2000) g, generate_series(1, 2) t"
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM dashboard_factsstale")
        cursor.execute(marks)
        cursor.execute("DELETE FROM dashboard_factsstale")  # a fold drained them
        cursor.execute("ANALYZE dashboard_factsstale")  # pages, and no live row in them
        cursor.execute(marks)
        plan = explained(facts.CLAIM["postgresql"], [facts.FOLD_LIMIT])
        cursor.execute("SELECT count(*) FROM dashboard_factsstale")
        (left,) = cursor.fetchone()

    reads = [
        (node["Node Type"], node["Actual Loops"])
        for node in nodes(plan)
        if node.get("Relation Name") == facts.STALE
    ]
    assert reads and all(loops == 1 for _, loops in reads), reads
    assert left == 2 * 2000 - 2 * facts.FOLD_LIMIT  # the first 1,000 leads' marks, both each
