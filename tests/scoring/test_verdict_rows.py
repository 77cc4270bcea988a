"""Storing verdicts without model instances writes the rows `bulk_create` wrote, field by
field, on whichever database the suite runs (PostgreSQL: execute_values and COPY; SQLite:
bulk_create); on PostgreSQL both paths are also compared with each other."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from leads.capture.services import Provenance, lead_capture
from leads.models import Lead
from scoring.models import Criterion, CriterionResult, Qualification
from scoring.verdict_rows import (
    Judged,
    _stored_on_postgresql,
    _stored_with_models,
    verdicts_store,
)
from tests.factories import AgreementFactory, CriterionFactory, FormFactory

pytestmark = pytest.mark.django_db

# What a lead may send that COPY's text format must escape, and what a SQL literal must quote.
AWKWARD_TITLES = [
    "CEO",
    "Head\tof sales",
    "VP\nof\r\nsomething",
    "back\\slash \\N \\t",
    "quote ' \" %s %(x)s ; -- “curly” ünïcode 日本",
    "",
]


@pytest.fixture
def agreement():
    """A mandatory size, and a job title worth points (its sentence quotes the title)."""
    agreement = AgreementFactory(threshold=5)
    CriterionFactory(
        agreement=agreement,
        label="Has a job title",
        kind=Criterion.Kind.SCORING,
        attribute="job_title",
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=10,
        position=1,
    )
    return agreement


def judged_leads(agreement) -> list[Judged]:
    at = datetime(2026, 11, 25, 12, 30, 15, 123456, tzinfo=UTC)
    compiled = agreement.compiled()
    judged = []
    for n, title in enumerate(AWKWARD_TITLES):
        cleaned = {"email": f"lead{n}@acme.example", "company_size": 20 + 20 * n}
        if title:
            cleaned["job_title"] = title
        submission = lead_capture(
            form=FormFactory(), payload=cleaned, cleaned=cleaned, provenance=Provenance()
        )
        lead = Lead.objects.get(pk=submission.lead_id)
        verdict = compiled(lead.attributes, submitted_at=at, now=at)
        judged.append(
            Judged(lead.pk, submission.pk, agreement.pk, verdict, verdict.summary, evaluated_at=at)
        )
    return judged


def stored_rows(ids: list[int]) -> list[tuple]:
    """Each qualification's fields and its results' fields, in the order given."""
    fields = [f.attname for f in Qualification._meta.concrete_fields if f.name != "id"]
    by_pk = {row[0]: row[1:] for row in Qualification.objects.values_list("pk", *fields)}
    results: dict[int, list[tuple]] = {}
    columns = [f.attname for f in CriterionResult._meta.concrete_fields]
    columns = [c for c in columns if c not in ("id", "qualification_id")]
    for qualification_id, *row in CriterionResult.objects.order_by("pk").values_list(
        "qualification_id", *columns
    ):
        results.setdefault(qualification_id, []).append(tuple(row))
    return [(by_pk[pk], results.get(pk, [])) for pk in ids]


def expected_rows(judged: list[Judged]) -> list[tuple]:
    return [
        (
            (
                j.lead_id,
                j.submission_id,
                j.agreement_id,
                j.verdict.qualified,
                j.verdict.score,
                j.summary,
                j.evaluated_at,
                None,  # superseded_at
            ),
            [(o.rule_id, o.passed, o.points, o.reason) for o in j.verdict.outcomes],
        )
        for j in judged
    ]


def test_stored_verdicts_are_the_judgements_field_by_field(agreement, django_assert_num_queries):
    judged = judged_leads(agreement)
    assert any("\t" in o.reason for j in judged for o in j.verdict.outcomes)
    # PostgreSQL: the ids, the judgements, their results; elsewhere the two bulk_creates.
    queries = 3 if connection.vendor == "postgresql" else 2
    with transaction.atomic(), django_assert_num_queries(queries):
        ids = verdicts_store(judged)
    assert len(set(ids)) == len(judged)
    assert stored_rows(ids) == expected_rows(judged)
    assert [q.pk for q in Qualification.objects.order_by("pk")] == ids  # ids in order given


def test_nothing_to_store_writes_nothing(agreement, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert verdicts_store([]) == []


@pytest.mark.postgres
def test_on_postgresql_the_fast_path_writes_what_bulk_create_wrote(agreement):
    assert connection.vendor == "postgresql"
    judged = judged_leads(agreement)
    with transaction.atomic():
        with_models = stored_rows(_stored_with_models(judged))
        CriterionResult.objects.all().delete()
        Qualification.objects.all().delete()
        fast = stored_rows(_stored_on_postgresql(judged))
    assert fast == with_models
    assert fast == expected_rows(judged)


def test_the_sql_names_the_models_columns():
    from scoring import verdict_rows

    assert "COPY " + Qualification._meta.db_table in verdict_rows.COPY_QUALIFICATIONS
    assert "'" + Qualification._meta.db_table + "'" in verdict_rows.NEXT_IDS
    assert "COPY " + CriterionResult._meta.db_table in verdict_rows.COPY_RESULTS
    for model, sql in [
        (Qualification, verdict_rows.COPY_QUALIFICATIONS),
        (CriterionResult, verdict_rows.COPY_RESULTS),
    ]:
        named = sql.split("(", 1)[1].split(")", 1)[0].replace(" ", "").split(",")
        columns = {f.column for f in model._meta.concrete_fields}
        assert set(named) <= columns
        required = {f.column for f in model._meta.concrete_fields if not f.null and f.name != "id"}
        assert required <= set(named)


def test_without_database_keys_django_still_deletes_and_protects_the_results(agreement):
    """CriterionResult has no foreign key constraints in the database (their checks cost
    more than the rows): deleting a judgement takes its results, a judged criterion stays."""
    from django.db.models import ProtectedError
    from django.db.models.deletion import Collector

    judged = judged_leads(agreement)
    with transaction.atomic():
        first, *_ = verdicts_store(judged)
    Qualification.objects.filter(pk=first).delete()
    assert not CriterionResult.objects.filter(qualification_id=first).exists()
    assert CriterionResult.objects.exists()
    with pytest.raises(ProtectedError):  # what Criterion.delete() would meet, once allowed
        Collector(using="default").collect([agreement.criteria.first()])
