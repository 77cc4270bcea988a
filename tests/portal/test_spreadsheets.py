"""The one place CSV cells are defused and column names made unique."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.spreadsheets import SafeWriter, defuse, safe_cell, unique_header

# OWASP's list, the line feed, and the full-width forms of = + - @.
RUNS = "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("+49 30 1234", "'+49 30 1234"),
        ("@A1", "'@A1"),
        ("-2+3", "'-2+3"),
        ("-1e5", "'-1e5"),
        ("-", "'-"),
        ("-12", "-12"),
        ("-3.5", "-3.5"),
        (" -3.5", " -3.5"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("\nAcme", "'\nAcme"),
        ("\tAcme", "'\tAcme"),
        ("  =1", "'  =1"),
        ("\u00a0=1", "'\u00a0=1"),
        ("\u3000=1", "'\u3000=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),  # a full-width minus is no plain number
        ("\uff20A1", "'\uff20A1"),
        ("\ufe661", "'\ufe661"),  # the small equals sign
        ("\uff0d\uff11", "'\uff0d\uff11"),  # full-width digits too
        ("Acme", "Acme"),
        ("  Acme", "  Acme"),
        ("a=b", "a=b"),
        ("'=1", "'=1"),
        ("", ""),
        ("   ", "   "),
        (-5, -5),
        (Decimal("-5.5"), Decimal("-5.5")),
        (True, "yes"),
        (False, "no"),
        (None, ""),
        (["a", "=b"], "a;=b"),
        (["=a"], "'=a"),
        ({"a": "=b"}, '{"a": "=b"}'),
        (date(2024, 1, 2), "2024-01-02"),
    ],
)
def test_safe_cell(value, cell):
    assert safe_cell(value) == cell


def test_a_moment_is_written_in_the_portals_time_zone_with_its_offset(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    assert safe_cell(datetime(2024, 1, 2, 12, tzinfo=UTC)) == "2024-01-02T13:00:00+01:00"


TRICKY = st.text(
    alphabet=st.sampled_from([*RUNS, " ", "\u3000", "\u00a0", "1", "5", ".", ",", "a", "(", "'"])
    | st.characters(),
    max_size=12,
)


@given(TRICKY)
def test_no_cell_that_a_spreadsheet_would_run_is_left_as_it_is(text):
    cell = defuse(text)
    assert cell in (text, "'" + text)
    if cell == text and text:
        assert text[0] not in "\t\r\n"
        head = text.lstrip()
        if head and head[0] in RUNS:
            assert re.fullmatch(r"-[0-9]+([.,][0-9]+)?", head)


@given(TRICKY)
def test_defusing_twice_changes_nothing_more(text):
    assert defuse(defuse(text)) == defuse(text)


@given(st.lists(st.lists(TRICKY, min_size=1, max_size=4), max_size=4))
def test_a_written_file_reads_back_as_what_was_given_or_defused(rows):
    out = io.StringIO()
    SafeWriter(out).writerows(rows)
    read = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert len(read) == len(rows)
    for given_row, read_row in zip(rows, read, strict=True):
        assert read_row == [defuse(cell) for cell in given_row]


def test_our_columns_keep_their_names_and_a_clashing_one_is_qualified():
    header = unique_header(
        ["row", "outcome"], ["email", "outcome", "outcome (file)", "=x"], qualifier="file"
    )
    assert header == ["row", "outcome", "email", "outcome (file)", "outcome (file) (file)", "'=x"]


def test_the_columns_named_last_are_ours_too():
    header = unique_header(["id"], ["notes", "id", "id"], qualifier="field", last=["notes"])
    assert header == ["id", "notes (field)", "id (field)", "id (field 2)", "notes"]


def test_a_name_defused_like_another_is_still_another_column():
    assert unique_header(["'=x"], ["=x"], qualifier="file") == ["'=x", "'=x (file)"]


def test_our_own_columns_may_not_repeat_a_name():
    with pytest.raises(ValueError, match="repeat"):
        unique_header(["a", "a"], [], qualifier="file")
