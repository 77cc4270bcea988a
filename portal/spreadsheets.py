"""Every CSV file the portal writes goes through here: a spreadsheet that opens it shows each
cell and runs none (CSV injection, OWASP), and no two columns share a name.

The exports, the import's report and the import command write through `SafeWriter`.
"""

import csv
import json
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from django.utils import timezone

# A cell starting with one of these is run as a formula or splits into another cell (OWASP's
# list, with the line feed). Their full-width forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) and
# small forms (U+FE62...) are caught by their NFKC form: a Japanese spreadsheet reads a
# full-width equals sign as =.
TRIGGERS = frozenset("=+-@\t\r\n")
# "-12" and "-3.5" (or "-3,5") stay readable numbers: a sign and ASCII digits call nothing.
PLAIN_NEGATIVE = re.compile(r"-[0-9]+(?:[.,][0-9]+)?", re.ASCII)
# Most cells start with one of these: nothing more to look at.
_PLAIN_START = frozenset(chr(c) for c in range(33, 127)) - TRIGGERS


def defuse(text: str) -> str:
    """The text, prefixed with ' if a spreadsheet would run it, even behind leading spaces."""
    if not text or text[0] in _PLAIN_START:
        return text
    if text[0] in "\t\r\n":
        return f"'{text}"
    head = text.lstrip()
    if not head:
        return text
    first = head[0]
    if first > "\x7f":
        first = unicodedata.normalize("NFKC", first)[:1]
    if first not in TRIGGERS or PLAIN_NEGATIVE.fullmatch(head):
        return text
    return f"'{text}"


def safe_cell(value: Any) -> Any:
    """A cell as text a spreadsheet shows and never runs; numbers stay numbers."""
    if type(value) is str:
        return defuse(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        value = ";".join(map(str, value))
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return defuse(str(value))


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeWriter:
    """csv.writer whose every cell, the header's too, goes through `safe_cell`."""

    def __init__(self, out: _Writable, **fmt: Any):
        self._writer = csv.writer(out, **fmt)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def unique_header(
    fixed: Iterable[str], more: Iterable[str], *, qualifier: str, last: Iterable[str] = ()
) -> list[str]:
    """The column names, each once: `fixed`, `more`, then `last`. The fixed and last ones keep
    their names (what readers of the file rely on); a name of `more` (one a person chose: a form
    field's key, a file's column) that is taken becomes "name (qualifier)", then
    "name (qualifier 2)", and so on."""
    first, last = [safe_cell(name) for name in fixed], [safe_cell(name) for name in last]
    taken = {*first, *last}
    if len(taken) != len(first) + len(last):
        raise ValueError(f"Our own columns repeat a name: {first + last}")
    middle = []
    for name in map(safe_cell, more):
        candidate, number = name, 1
        while candidate in taken:
            candidate = f"{name} ({qualifier})" if number == 1 else f"{name} ({qualifier} {number})"
            number += 1
        taken.add(candidate)
        middle.append(candidate)
    return [*first, *middle, *last]
