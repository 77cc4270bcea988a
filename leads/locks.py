"""Row locks, taken in one place so every writer locks the same rows in the same order.

Each function must run inside `transaction.atomic()`; the lock holds until it commits.
Rows of one kind are always locked in primary-key order, so two writers never deadlock.
"""

import hashlib
from collections.abc import Iterable
from typing import TypeVar

from django.db import models, transaction

from leads.models import Lead

M = TypeVar("M", bound=models.Model)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Row locks are taken inside the transaction that uses them.")


def lead_locked(lead_id: int, **conditions) -> Lead | None:
    """The lead, locked for this transaction, if it still meets `conditions`; else None."""
    _require_transaction()
    return Lead.objects.select_for_update().filter(pk=lead_id, **conditions).first()


def lead_locked_by_email(email: str) -> Lead:
    """The lead with this normalised e-mail, locked: a second submission merges into it."""
    _require_transaction()
    return Lead.objects.select_for_update().get(email=email)


def key_locked(*parts: object) -> None:
    """Hold a lock on a key (not a row) until this transaction ends; others wait for it.

    For claiming something before its row exists, like an idempotency key. PostgreSQL's
    transaction-scoped advisory lock; elsewhere (SQLite, one writer at a time) a no-op.
    """
    _key_lock("pg_advisory_xact_lock", parts)


def key_try_locked(*parts: object) -> bool:
    """`key_locked` without the wait: False at once when another transaction holds the key
    (for work that whoever holds it, or a later run, does anyway). Always True on SQLite."""
    return _key_lock("pg_try_advisory_xact_lock", parts)


def _key_lock(function: str, parts: tuple) -> bool:
    _require_transaction()
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return True
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s)", [int.from_bytes(digest[:8], signed=True)])
        (got,) = cursor.fetchone()
    return got is not False  # pg_advisory_xact_lock returns void (None)


def row_locked(model: type[M], pk: int) -> M:
    """One row of any table, locked for this transaction (a queue's round-robin cursor...)."""
    _require_transaction()
    return model._default_manager.select_for_update().get(pk=pk)


def rows_locked(model: type[models.Model], pks: Iterable[int]) -> list:
    """Several rows of one table, locked in primary-key order."""
    _require_transaction()
    return list(model._default_manager.select_for_update().filter(pk__in=list(pks)).order_by("pk"))


def ids_locked(model: type[models.Model], pks: Iterable[int]) -> list[int]:
    """`rows_locked` for a caller that needs the lock, not the rows: their ids only (routing
    locks every rep of the queues per batch, and built a user instance each for nothing)."""
    _require_transaction()
    rows = model._default_manager.select_for_update().filter(pk__in=list(pks)).order_by("pk")
    return list(rows.values_list("pk", flat=True))


def lead_rows_locked(pks: Iterable[int], *fields: str) -> list[tuple]:
    """Leads locked in primary-key order like `rows_locked`, read as plain rows of `fields`
    (after the pk): for a batch of thousands that needs a few columns, not models."""
    _require_transaction()
    rows = Lead.objects.select_for_update().filter(pk__in=list(pks)).order_by("pk")
    return list(rows.values_list("pk", *fields))
