"""Bulk statements on PostgreSQL from plain tuples, for the batches that write thousands of
rows (judgements, lead events, lead updates): no model instance per row; reading many rows
while the server makes the next ones (`rows_read_ahead`); and statements the server plans
once per connection (`Prepared`), for the intake's one statement a post.

Both go through Django's cursor, so they are logged, counted by query-count tests and seen by
`connection.execute_wrappers` like any other query; psycopg2's own `execute_values` would go
around it.
"""

import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, transaction
from django.db.models import DateTimeField, JSONField
from django.db.models.sql.constants import MULTI


def columns_sql(model, names: Sequence[str]) -> str:
    """`table (column, ...)` of these fields of `model` (names or attnames), for the bulk
    statements that write plain tuples: the names are the model's, so a renamed or misspelt
    field fails when the module is imported, not in a batch."""
    meta = model._meta
    columns = ", ".join(meta.get_field(name).column for name in names)
    return f"{meta.db_table} ({columns})"


class Literal(str):
    """A value for `insert_sql`, written into the statement as a quoted literal."""


def insert_sql(model, values: Mapping[str, str]) -> tuple[str, str]:
    """`table (columns)` and the matching value expressions of an INSERT of every concrete
    field of `model` but its primary key, for a statement written once (`Prepared`).

    A field named in `values` (name or attname) gets that SQL expression (a parameter such
    as `$3`, a column of a CTE, or a `Literal`); every other field gets what `save()` would
    store for it, written as a literal: its default, or Django's empty value. A field whose
    value is worked out per row (`auto_now`, a callable default such as `timezone.now`) must
    be named: a new one fails when the statement is built, not in a stored row.
    """
    meta = model._meta
    given = {meta.get_field(name).attname: expression for name, expression in values.items()}
    with connection.cursor() as cursor:
        quoted = cursor.cursor.mogrify
        columns, expressions = [], []
        for field in meta.concrete_fields:
            if field.primary_key:
                continue
            columns.append(field.column)
            if field.attname in given:
                expression = given.pop(field.attname)
                if isinstance(expression, Literal):
                    expression = quoted("%s", [str(expression)]).decode()
                expressions.append(expression)
                continue
            per_row = (
                (
                    field.has_default()
                    and callable(field.default)
                    and field.default not in (dict, list)
                )
                or (isinstance(field, DateTimeField) and (field.auto_now or field.auto_now_add))
                or (field.has_db_default() and not field.has_default())  # no DEFAULT in SELECT
            )
            if per_row:
                raise ImproperlyConfigured(f"insert_sql: name a value for {field} (one per row).")
            value = field.get_db_prep_save(field.get_default(), connection)
            expressions.append(quoted("%s", [value]).decode())
    if given:
        raise ImproperlyConfigured(f"insert_sql: {model.__name__} has no fields {sorted(given)}.")
    return f"{meta.db_table} ({', '.join(columns)})", ", ".join(expressions)


class Prepared:
    """A statement PostgreSQL parses and plans once per connection (PREPARE), then runs with
    each call's parameters (EXECUTE `$1`..`$n`).

    For the intake's one statement a post: planning its three chained INSERTs took more of
    the server's CPU than running them (pgbench: 0.76 ms a post as a plain statement, 0.32 ms
    prepared). psycopg2 has no protocol-level prepare, so this is SQL's own PREPARE, made on
    a connection's first call (`portal.postgresql` forgets it on reconnecting). A prepared
    statement belongs to its session: behind a pooler in transaction mode (PgBouncer's
    default), connect LeadBridge in session mode. The EXECUTE goes through Django's cursor
    (logged, counted by query-count tests) like any other query.
    """

    def __init__(self, name: str, statement: Callable[[], str], arity: int):
        self.name, self._statement = name, statement
        self._execute = f"EXECUTE {name} ({', '.join(['%s'] * arity)})"

    def execute(self, cursor, params: Sequence) -> None:
        prepared = cursor.db.prepared_statements
        if self.name not in prepared:
            cursor.execute(f"PREPARE {self.name} AS {self._statement()}")
            prepared.add(self.name)
        cursor.execute(self._execute, params)


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


def instances_save(instances: Sequence, fields: Sequence[str]) -> None:
    """`save(update_fields=fields)` of many instances of one model in one statement: on
    PostgreSQL an `UPDATE ... FROM (VALUES ...)` (`rows_save`; `bulk_update` writes a CASE per
    row and field, which cost more CPU than the batch's judging), elsewhere `bulk_update`."""
    instances = list({instance.pk: instance for instance in instances}.values())
    if not instances:
        return
    model = type(instances[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(instances, fields)
        return
    meta = model._meta
    names = [meta.pk.attname, *(meta.get_field(name).attname for name in fields)]
    rows_save(model, fields, [tuple(getattr(i, name) for name in names) for i in instances])


def rows_save(model, fields: Sequence[str], rows: Sequence[tuple]) -> None:
    """Set `fields` of rows of `model` given as plain tuples (the primary key, then the
    fields' values in that order), one statement, no model instance.

    On PostgreSQL an `UPDATE ... FROM (VALUES ...)` in which a column that has the same value
    in every row is written once, as a constant: a batch's rows share most of theirs (the
    stage, its time, the clock's step), and quoting every row's values was most of routing's
    lead UPDATE in Python (py-spy). Elsewhere one UPDATE per distinct set of values."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    if connection.vendor != "postgresql":
        # Grouped by the values' JSON: a JSON field's value (a dict, a list) is no dict key.
        groups: dict[str, tuple[tuple, list]] = {}
        for row in rows:
            key = json.dumps(row[1:], sort_keys=True, default=str)
            groups.setdefault(key, (tuple(row[1:]), []))[1].append(row[0])
        names = [column.attname for column in columns[1:]]
        for values, pks in groups.values():
            changes = dict(zip(names, values, strict=True))
            model._default_manager.filter(pk__in=pks).update(**changes)
        return
    first = rows[0]
    same = {i for i in range(1, len(columns)) if all(row[i] == first[i] for row in rows)}
    varying = [i for i in range(len(columns)) if i not in same]  # the primary key always
    prepare = {i: _preparer(columns[i]) for i in range(len(columns))}
    with connection.cursor() as cursor:
        quoted = cursor.cursor.mogrify
        sets = [
            f"{columns[i].column} = v.{columns[i].column}"
            if i not in same
            else f"{columns[i].column} = "
            + quoted(f"%s::{columns[i].cast_db_type(connection)}", [prepare[i](first[i])]).decode()
            for i in range(1, len(columns))
        ]
    names = ", ".join(columns[i].column for i in varying)
    casts = ", ".join(f"%s::{columns[i].cast_db_type(connection)}" for i in varying)
    pk = meta.pk.column
    # Column names and types come from the model; every value is quoted by psycopg2.
    values_execute(
        f"UPDATE {meta.db_table} AS t SET {', '.join(sets)} "  # noqa: S608 - the model's names
        f"FROM (VALUES %s) AS v({names}) WHERE t.{pk} = v.{pk}",
        [tuple(prepare[i](row[i]) for i in varying) for row in rows],
        template=f"({casts})",
    )


def _preparer(column) -> Callable:
    """The field's `get_db_prep_save`, but None, whole numbers, text, dates and aware times in
    a plain column as they are: Django returns them unchanged on PostgreSQL, and its checks
    cost 4.7 µs a value (a tenth of routing's lead writes and 38 µs of a lead's clock columns
    in the escalation step, py-spy). A JSON column, a naive time Django warns about or a
    decimal it rounds goes through it."""
    if isinstance(column, JSONField):
        return partial(_field_prepared, column)

    def prepare(value):
        if value is None or (
            isinstance(value, int | str | date)
            and (not isinstance(value, datetime) or value.utcoffset() is not None)
        ):
            return value
        return column.get_db_prep_save(value, connection)

    return prepare


def _field_prepared(column, value):
    return column.get_db_prep_save(value, connection)


def one_of(column: str, ids: Sequence[int]) -> tuple[str, list]:
    """`column` is one of `ids`, as SQL and its parameters: on PostgreSQL `= ANY(%s)` with the
    ids as one array parameter, elsewhere `IN (%s, ...)`. For a batch's statements over its
    250 rows: the ORM's `__in` prepared each id through the field (0.75 ms of Python a
    statement, four times the statement's own)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    if not ids:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def next_ids(model, count: int) -> list[int]:
    """`count` ids from the sequence of `model`'s primary key, for rows written by COPY."""
    if not count:
        return []
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def copy_text(sql: str, text: str) -> None:
    """`COPY ... FROM STDIN` of `text` (COPY's text format, escaped by the caller)."""
    with connection.cursor() as cursor:
        if hasattr(cursor, "debug_sql"):  # logged when queries are (DEBUG, query counts)
            with cursor.debug_sql(sql):
                cursor.cursor.copy_expert(sql, io.StringIO(text))
        else:
            cursor.cursor.copy_expert(sql, io.StringIO(text))


def copy_rows(sql: str, rows: Iterable[Sequence]) -> None:
    """`COPY ... FROM STDIN` of plain tuples, each value written in COPY's text format by its
    Python type (None, str, bool, int, datetime, dict/list as JSON). Quoting each row for an
    INSERT with psycopg2's `mogrify` was a fifth of the escalation step's time (py-spy)."""
    text = "".join("\t".join(map(_copy_value, row)) + "\n" for row in rows)
    if text:
        copy_text(sql, text)


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return copy_escaped(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return copy_escaped(json.dumps(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def copy_escaped(text: str) -> str:
    """A text value in COPY's text format: what a lead sent may hold any of its specials."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


@contextmanager
def rows_read_ahead(queryset, *, chunk_size: int) -> Iterator[Iterator[tuple]]:
    """The rows of a `values_list` queryset, `chunk_size` a fetch, the next fetch on its way
    while the caller works on these.

    On PostgreSQL: a server-side cursor inside a transaction (a savepoint would be two more
    statements and nothing to undo; outside a transaction, Django declares the cursor
    WITH HOLD, and the server makes every row before it sends the first), whose FETCHes a
    thread sends up to two ahead; psycopg2 lets go of the GIL while it waits, so the server makes
    the next rows on another core while this thread judges, counts or decodes these. The
    DECLARE goes through Django's cursor (logged, counted by query-count tests) from this
    thread; the connection is the thread's alone until the block ends, so make no other query
    inside it. Elsewhere, `queryset.iterator`.
    """
    if connections[queryset.db].vendor != "postgresql":
        yield iter(queryset.iterator(chunk_size=chunk_size))
        return
    with transaction.atomic(using=queryset.db, savepoint=False):
        compiler = queryset.query.get_compiler(using=queryset.db)
        chunks = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=chunk_size)
        ahead = _ReadAhead(chunks)
        try:
            yield compiler.results_iter(results=ahead, tuple_expected=True)
        finally:
            ahead.stop()
            close = getattr(chunks, "close", None)  # a generator that closes the cursor
            if close is not None:
                close()


_DONE = object()


class _ReadAhead:
    """Iterates `chunks` in a thread, at most two chunks ahead of the reader."""

    def __init__(self, chunks: Iterable):
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._fetch, args=(chunks,), name="rows-read-ahead", daemon=True
        )
        self._thread.start()

    def _fetch(self, chunks: Iterable) -> None:
        try:
            for chunk in chunks:
                if not self._put(chunk):
                    return
        except BaseException as error:
            self._put(_Failure(error))
            return
        self._put(_DONE)

    def _put(self, item) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[list]:
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def stop(self) -> None:
        """Ends the thread (the reader stopped early, or is done) and waits for it."""
        self._stopped.set()
        self._thread.join()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error
