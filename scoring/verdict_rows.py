"""Storing verdicts: for each judged lead a qualification and one criterion result per
criterion, many leads at once. The one way the handoff's batches (`submissions_qualify`)
and the re-scoring (`rescore`) write them.

On PostgreSQL no model instance is built: the qualifications get their ids from the
table's sequence (one query), then they and their criterion results go in by `COPY`, one
each, from plain text (`portal.sql`). `bulk_create` made about thirteen model
instances per lead (`Model.__init__` and its init signals), which cost more than the rest
of the handoff's scoring together. Other databases (SQLite, the demo) use `bulk_create`:
the rows are the same, field by field (tests/scoring/test_verdict_rows.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from portal.sql import columns_sql, copy_escaped, copy_text
from scoring import engine
from scoring.models import CriterionResult, Qualification


@dataclass(frozen=True, slots=True)
class Judged:
    """One lead's verdict, to be stored as its judgement after one submission."""

    lead_id: int
    submission_id: int
    agreement_id: int
    verdict: engine.Verdict
    summary: str  # the verdict's, written once by the caller (it may use it again)
    evaluated_at: datetime


def verdicts_store(judged: Sequence[Judged]) -> list[int]:
    """Write these judgements in the caller's transaction; their qualification ids, in order."""
    if not judged:
        return []
    if connection.vendor == "postgresql":
        return _stored_on_postgresql(judged)
    return _stored_with_models(judged)


# Plain tuples in the models' columns (`verdict_rows_match_their_models` checks the names).
NEXT_IDS = (
    "SELECT nextval(pg_get_serial_sequence('scoring_qualification', 'id')) "
    "FROM generate_series(1, %s)"
)
QUALIFICATION_COLUMNS = (
    "id",
    "lead_id",
    "submission_id",
    "agreement_id",
    "qualified",
    "score",
    "summary",
    "evaluated_at",
)
RESULT_COLUMNS = ("qualification_id", "criterion_id", "passed", "points", "reason")
COPY_QUALIFICATIONS = f"COPY {columns_sql(Qualification, QUALIFICATION_COLUMNS)} FROM STDIN"
COPY_RESULTS = f"COPY {columns_sql(CriterionResult, RESULT_COLUMNS)} FROM STDIN"


def qualifications_supersede(ids: Sequence[int], *, at: datetime) -> None:
    """Mark these judgements superseded at `at` (a newer one replaces each): one statement,
    its ids one array parameter on PostgreSQL rather than a placeholder each."""
    if not ids:
        return
    if connection.vendor != "postgresql":
        Qualification.objects.filter(pk__in=ids).update(superseded_at=at)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE scoring_qualification SET superseded_at = %s WHERE id = ANY(%s)",
            [at, list(ids)],
        )


def _stored_on_postgresql(judged: Sequence[Judged]) -> list[int]:
    # Ids taken from the table's sequence first, so both tables go in by COPY: quoting each
    # row's values for an INSERT ... RETURNING cost more than writing them.
    with connection.cursor() as cursor:
        cursor.execute(NEXT_IDS, [len(judged)])
        ids = [row[0] for row in cursor.fetchall()]
    copy_text(COPY_QUALIFICATIONS, _qualifications_text(ids, judged))
    copy_text(COPY_RESULTS, _copy_text(ids, judged))
    return ids


def _qualifications_text(ids: list[int], judged: Sequence[Judged]) -> str:
    lines = []
    for qualification_id, j in zip(ids, judged, strict=True):
        lines.append(
            f"{qualification_id}\t{j.lead_id}\t{j.submission_id}\t{j.agreement_id}\t"
            f"{'t' if j.verdict.qualified else 'f'}\t{int(j.verdict.score)}\t"
            f"{copy_escaped(j.summary)}\t{j.evaluated_at.isoformat()}\n"
        )
    return "".join(lines)


def _copy_text(ids: list[int], judged: Sequence[Judged]) -> str:
    """The criterion results in COPY's text format: tab-separated, one row a line."""
    lines = []
    for qualification_id, one in zip(ids, judged, strict=True):
        for rule_id, passed, points, reason in one.verdict.results:
            lines.append(
                f"{qualification_id}\t{rule_id}\t{'t' if passed else 'f'}\t"
                f"{int(points)}\t{copy_escaped(reason)}\n"
            )
    return "".join(lines)


def _stored_with_models(judged: Sequence[Judged]) -> list[int]:
    qualifications = Qualification.objects.bulk_create(
        Qualification(
            lead_id=j.lead_id,
            submission_id=j.submission_id,
            agreement_id=j.agreement_id,
            qualified=j.verdict.qualified,
            score=j.verdict.score,
            summary=j.summary,
            evaluated_at=j.evaluated_at,
        )
        for j in judged
    )
    CriterionResult.objects.bulk_create(
        CriterionResult(
            qualification_id=qualification.pk,
            criterion_id=rule_id,
            passed=passed,
            points=points,
            reason=reason,
        )
        for qualification, one in zip(qualifications, judged, strict=True)
        for rule_id, passed, points, reason in one.verdict.results
    )
    return [qualification.pk for qualification in qualifications]
