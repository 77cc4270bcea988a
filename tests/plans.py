"""PostgreSQL's plans, as the tests that pin a query's shape read them."""

import json

from django.db import connection


def explained(sql: str, params=()) -> dict:
    """The top node of `EXPLAIN (ANALYZE, FORMAT JSON)` of the statement, which is run."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def nodes(plan: dict):
    """The node and every node under it."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def rows_discarded(queryset) -> int:
    """Rows of the queryset's own table that the plan read and threw away (filters and index
    rechecks). A joined table's are left out: the planner may scan a two-row table (the
    forms, the users) and discard one, which says nothing about how the leads were read."""
    sql, params = queryset.query.sql_with_params()
    table = queryset.model._meta.db_table
    return sum(
        node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)
        for node in nodes(explained(sql, params))
        if node.get("Relation Name") == table
    )
