"""Every CSV file the portal writes (the submissions and leads exports, the import's report as
a page and from the command): no cell a spreadsheet would run, and no column named twice."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from leads.capture.imports.models import LeadImport
from leads.capture.imports.services import import_create, import_map, import_run
from leads.capture.models import FormField
from leads.capture.services import form_publish
from leads.models import Submission
from portal.accounts.roles import Role
from tests.factories import FormFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

# What the issue found unescaped, and its kin: a formula behind spaces, a leading line feed,
# full-width (U+FF1D, U+FF0B, U+FF0D, U+FF20) and small (U+FE66) forms of = + - @.
FORMULAS = [
    '=HYPERLINK("http://evil.example","Click")',
    "@SUM(A1:A2)",
    "-2+3+cmd|' /C calc'!A0",
    "+1+1",
    "\n=1+2",
    "\r=1+2",
    "\t=1+2",
    "  =1+2",
    "\u3000=1+2",
    "\uff1d1+1",
    "\uff0b1+1",
    "\uff0d1+1",
    "\uff20SUM(A1)",
    "\ufe661+1",
]
# The names the exports give their own columns, as form field keys or a file's columns.
CLASHING_KEYS = ["consent", "stage", "score", "utm_source", "owner", "submission_id",
                 "other_attributes"]  # fmt: skip
# A file's column names are read trimmed: those with leading spaces would repeat a name.
NAMES = [formula for formula in FORMULAS if formula == formula.strip()]


def _table(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def _streamed(response) -> list[list[str]]:
    assert response.status_code == 200
    return _table(b"".join(response.streaming_content))


@pytest.fixture
def marketer(client):
    client.force_login(UserFactory(role=Role.MARKETING_MANAGER))
    return client


@pytest.fixture
def form(db):
    form = FormFactory(publish=False)
    for position, key in enumerate(CLASHING_KEYS, start=10):
        kind = FormField.Kind.CONSENT if key == "consent" else FormField.Kind.TEXT
        FormField.objects.create(
            form=form, key=key, label=key.title(), kind=kind, position=position
        )
    form_publish(form=form, by=None)
    form.refresh_from_db()
    return form


def _submission(form, company: str) -> Submission:
    lead = LeadFactory(company=company, first_name=company, source_form=form)
    return Submission.objects.create(
        form=form,
        form_version=form.current_version,
        lead=lead,
        payload={"email": lead.email, "company": company, "consent": "yes"},
        utm={"utm_source": company},
        consent=True,
    )


def test_the_submissions_export_defuses_every_formula(marketer, form):
    for formula in FORMULAS:
        _submission(form, formula)
    header, *rows = _streamed(marketer.get(reverse("capture:submissions_export")))
    company, utm = header.index("company"), header.index("utm_source")
    assert [row[company] for row in rows] == ["'" + formula for formula in FORMULAS]
    assert [row[utm] for row in rows] == ["'" + formula for formula in FORMULAS]


def test_the_leads_export_defuses_every_formula(marketer, form):
    for formula in FORMULAS:
        LeadFactory(company=formula, first_name=formula, source_form=form)
    header, *rows = _streamed(marketer.get(reverse("inbox:export")))
    company = header.index("company")
    assert sorted(row[company] for row in rows) == sorted("'" + f for f in FORMULAS)


def test_plain_negative_numbers_stay_numbers_in_an_export(marketer, form):
    for number in ["-12", "-3.5", "-3,5"]:
        _submission(form, number)
    header, *rows = _streamed(marketer.get(reverse("capture:submissions_export")))
    assert [row[header.index("company")] for row in rows] == ["-12", "-3.5", "-3,5"]


def _import_with_report(form) -> LeadImport:
    """An import of a file whose column names and skipped rows carry formulas."""
    columns = ["email", "company", "row", "outcome", "field", "reason", *NAMES]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for formula in FORMULAS:
        writer.writerow(["not-an-email", formula, "", "", "", "", *[formula] * len(NAMES)])
    lead_import = import_create(
        form=form, source="s", file_name="f.csv", content=out.getvalue(), by=None
    )
    import_map(
        lead_import=lead_import,
        mapping={"columns": {"email": {"to": "field:email"}, "company": {"to": "field:company"}}},
        time_zone="UTC",
    )
    LeadImport.objects.filter(pk=lead_import.pk).update(status=LeadImport.Status.QUEUED)
    return import_run(lead_import_id=lead_import.pk)


def _check_report(table: list[list[str]]) -> None:
    header, *rows = table
    assert header == [
        "row",
        "outcome",
        "field",
        "reason",
        "email",
        "company",
        "row (file)",
        "outcome (file)",
        "field (file)",
        "reason (file)",
        *("'" + name for name in NAMES),
    ]
    assert [row[header.index("company")] for row in rows] == ["'" + f for f in FORMULAS]
    for row, formula in zip(rows, FORMULAS, strict=True):
        assert row[10:] == ["'" + formula] * len(NAMES)


def test_the_import_report_page_defuses_and_names_each_column_once(marketer, form):
    lead_import = _import_with_report(form)
    report = marketer.get(reverse("capture:import_report", kwargs={"pk": lead_import.pk}))
    _check_report(_table(report.content))


def test_the_import_commands_report_defuses_and_names_each_column_once(form, tmp_path):
    rows = [["email", "company", "outcome", NAMES[0]], ["x", FORMULAS[0], "", "=1"]]
    source = tmp_path / "leads.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(rows)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps({"form": {"slug": form.slug}, "columns": {"email": {"to": "field:email"}}})
    )
    report = tmp_path / "report.csv"
    call_command("import_leads", source, "--mapping", mapping, "--report", report,
                 stdout=io.StringIO())  # fmt: skip
    header, *lines = _table(report.read_bytes())
    assert header == [
        "row",
        "outcome",
        "field",
        "reason",
        "email",
        "company",
        "outcome (file)",
        "'" + NAMES[0],
    ]
    assert [line[5:] for line in lines] == [["'" + FORMULAS[0], "", "'=1"]]


def test_every_export_names_each_column_once(marketer, form):
    LeadFactory(source_form=form)
    for url in (reverse("capture:submissions_export"), reverse("inbox:export")):
        header, *_rows = _streamed(marketer.get(url))
        assert len(set(header)) == len(header), (url, header)
        for key in CLASHING_KEYS:
            assert key in header
