"""Bulk statements on PostgreSQL from plain tuples, for the batches that write thousands of
rows (judgements, lead events, lead updates): no model instance per row.

Both go through Django's cursor, so they are logged, counted by query-count tests and seen by
`connection.execute_wrappers` like any other query; psycopg2's own `execute_values` would go
around it.
"""

import io
from collections.abc import Sequence

from django.db import connection


def values_execute(
    sql: str, rows: Sequence[tuple], *, template: str | None = None, fetch: bool = False
) -> list[tuple]:
    """Run `sql`, whose one `%s` stands for `VALUES` rows, with every row in one statement
    (what `psycopg2.extras.execute_values` does with a page as large as the batch); the rows
    it returns when `fetch` (RETURNING), in the order of `rows`."""
    if not rows:
        return []
    head, tail = sql.split("%s")  # exactly one place for the rows
    with connection.cursor() as cursor:
        raw = cursor.cursor
        template = template or f"({', '.join(['%s'] * len(rows[0]))})"
        values = b",".join(raw.mogrify(template, row) for row in rows).decode()
        cursor.execute(f"{head}{values}{tail}")  # no parameters: already quoted by psycopg2
        return cursor.fetchall() if fetch else []


def copy_text(sql: str, text: str) -> None:
    """`COPY ... FROM STDIN` of `text` (COPY's text format, escaped by the caller)."""
    with connection.cursor() as cursor:
        if hasattr(cursor, "debug_sql"):  # logged when queries are (DEBUG, query counts)
            with cursor.debug_sql(sql):
                cursor.cursor.copy_expert(sql, io.StringIO(text))
        else:
            cursor.cursor.copy_expert(sql, io.StringIO(text))


def copy_escaped(text: str) -> str:
    """A text value in COPY's text format: what a lead sent may hold any of its specials."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text
