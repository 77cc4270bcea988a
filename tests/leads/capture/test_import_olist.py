"""The Olist import: the documented mapping read against the real files, and the command.

The files live in ../shared/data/olist (never copied into the repository); without them the
tests that need them skip with the reason. The full import of 8,000 rows takes minutes (each
row is a submission through the handoff), so the test imports a slice through the command
and checks the whole file through the same reader; docs/imports.md gives the full run's counts.
"""

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leads.capture.imports.models import ExternalLeadId
from leads.capture.imports.reading import RowReader, join_rows, read_csv
from leads.capture.models import Form
from leads.models import Lead, Stage

ROOT = Path(__file__).resolve().parents[3]
OLIST = Path("/work/shared/data/olist")
for candidate in (ROOT.parent / "shared" / "data" / "olist", OLIST):
    if candidate.exists():
        OLIST = candidate
        break
MQL = OLIST / "olist_marketing_qualified_leads_dataset.csv"
DEALS = OLIST / "olist_closed_deals_dataset.csv"
MAPPING = ROOT / "leads" / "capture" / "mappings" / "olist.json"
needs_olist = pytest.mark.skipif(
    not (MQL.exists() and DEALS.exists()), reason=f"the Olist files are not in {OLIST}"
)


@needs_olist
@pytest.mark.django_db
def test_every_olist_row_reads_and_the_won_deals_are_the_closed_deals_file():
    _header, leads = read_csv(MQL.read_text())
    _header, deals = read_csv(DEALS.read_text())
    mapping = json.loads(MAPPING.read_text())
    form = Form.objects.create(name="Olist", slug="olist-mql")
    reader = RowReader(form=form, mapping=mapping)

    rows = [reader.read(n, raw) for n, raw in enumerate(join_rows(leads, deals, on="mql_id"), 1)]

    assert len(rows) == len({row["mql_id"] for row in leads}) == 8000
    assert [row.errors for row in rows if row.errors] == []
    won = [row for row in rows if row.outcome == Stage.WON]
    assert len(won) == len(deals) == 842
    assert all(row.external_id and not row.email for row in rows)
    # One deal is won two days before its first contact: imported, dated from the win.
    assert [row.raw["mql_id"] for row in rows if row.warnings] == [
        "b91cf8812365f50ff4bda4bcd6206b05"
    ]


@needs_olist
@pytest.mark.django_db
def test_the_command_imports_olist_with_its_wins_and_a_rerun_adds_nothing(tmp_path, capsys):
    sliced = tmp_path / "mql.csv"
    lines = MQL.read_text().splitlines(keepends=True)
    sliced.write_text("".join(lines[:301]))  # the header and 300 leads
    ids = {row["mql_id"] for row in csv.DictReader(lines[:301])}
    won = sum(row["mql_id"] in ids for row in csv.DictReader(DEALS.open()))
    args = [sliced, "--mapping", MAPPING, "--join", f"{DEALS}:mql_id"]

    call_command("import_leads", *args, "--report", tmp_path / "report.csv")

    said = capsys.readouterr().out
    assert "300/300 (100 %)" in said
    assert f"Report of skipped rows: {tmp_path / 'report.csv'}" in said
    assert Lead.objects.count() == ExternalLeadId.objects.filter(source="olist").count() == 300
    assert Lead.objects.filter(stage=Stage.WON).count() == won > 0
    assert Lead.objects.filter(owner__isnull=False).count() == 0

    call_command("import_leads", *args, "--report", tmp_path / "again.csv")
    assert "0 new leads, 0 updated, 300 already imported, 0 skipped" in capsys.readouterr().out
    assert Lead.objects.count() == 300


@pytest.mark.django_db
def test_the_command_explains_a_bad_join(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("email\na@example.com\n")
    with pytest.raises(CommandError, match="FILE:COLUMN"):
        call_command("import_leads", data, "--mapping", MAPPING, "--join", "b.csv:nope")
