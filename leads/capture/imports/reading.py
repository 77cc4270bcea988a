"""Reading a CSV import: the file, each value (numbers, yes/no, dates in their zones) and each
row against a form and a column mapping, with the errors a person reads (field and reason).

Plain reading, no writes: the preview and the import (`leads.capture.imports.services`) share
it, so a row's preview errors are the errors it gets.
"""

import csv
import io
import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import slugify

from leads.capture.builder.fields import form_field
from leads.capture.imports.models import ExternalLeadId
from leads.capture.models import Form, FormField
from leads.capture.services import normalise_email
from leads.models import Stage
from portal.countries import country_code, country_keys_of
from portal.errors import DomainError

IGNORE = "ignore"
# Targets that are not form fields: what the row says about the lead's identity and history.
SPECIAL_TARGETS = {
    "external_id": "External id (identifies a lead without an e-mail)",
    "created_at": "Created on (the lead's first contact)",
    "outcome": "Outcome (won, lost, rejected)",
    "outcome_at": "Outcome date",
    "outcome_reason": "Outcome reason (rejected or lost)",
    "won_at": "Won on (a date here means the deal was won)",
}
ATTRIBUTE = "attr:"
FIELD = "field:"
ATTRIBUTE_TYPES = ("text", "decimal", "number", "yes_no", "date")
MAX_FILE_BYTES = 20 * 1024 * 1024
# The csv module's default field limit, which used to end the whole file: now the most a
# mapped cell may hold, its row skipped and reported beyond it. No form field takes as much.
MAX_CELL_CHARS = 131_072
# The module's limit is process-wide; a cell can be no longer than its file, so the reader
# never fails on one and the row's mapped columns decide (`RowReader.read`).
csv.field_size_limit(max(csv.field_size_limit(), MAX_FILE_BYTES))

YES = {"yes", "y", "true", "t", "1", "x", "on", "sim", "s", "ja", "oui", "si"}
NO = {"no", "n", "false", "f", "0", "off", "nao", "não", "nein", "non"}
# What files really write in an outcome column: a "Converted" 1/0 (or yes/no, true/false)
# is won or not; "not converted" and the like are lost: the lead was worked and did not buy.
OUTCOMES = {
    "won": Stage.WON,
    "converted": Stage.WON,
    "closed won": Stage.WON,
    **dict.fromkeys(("1", "yes", "y", "true", "t"), Stage.WON),
    "lost": Stage.LOST,
    "closed lost": Stage.LOST,
    **dict.fromkeys(("not", "not converted", "unconverted", "no conversion"), Stage.LOST),
    **dict.fromkeys(("0", "no", "n", "false", "f"), Stage.LOST),
    "rejected": Stage.REJECTED,
}


def parse_outcome(text: str) -> str | None:
    """The outcome a cell names (won, lost or rejected), None when it names none."""
    return OUTCOMES.get(" ".join(text.replace("_", " ").replace("-", " ").split()).casefold())


DATE_FORMATS = ("%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S")


@dataclass(frozen=True)
class RowError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


@dataclass
class ParsedRow:
    number: int
    raw: dict[str, str]
    payload: dict[str, str] = field(default_factory=dict)
    cleaned: dict[str, Any] = field(default_factory=dict)
    email: str = ""
    external_id: str = ""
    created_at: datetime | None = None
    outcome: str = ""
    outcome_at: datetime | None = None
    outcome_reason: str = ""
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    # What the submission records as wrong with a value it kept (as live capture does).
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def identity(self) -> str:
        return f"id:{self.external_id}" if self.external_id else f"email:{self.email}"


# Reading the file.


def read_csv(content: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the data rows of a CSV text (comma, semicolon or tab separated; lines
    ending in CR LF, LF or a lone CR, as old Mac and some Excel exports write them)."""
    # Sniffed on LF lines: the sniffer looks for its delimiter line by line, on "\n".
    sample = content[:8192].replace("\r\n", "\n").replace("\r", "\n")
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": lines end at CR, LF or CR LF, and the reader keeps those inside quotes.
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    try:
        try:
            header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise DomainError("The file is empty.", code="empty_file", field="file") from None
        if not any(header) or len(set(header)) != len(header):
            raise DomainError(
                "The first line must name every column once.", code="bad_header", field="file"
            )
        rows = [
            {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
            for cells in reader
            if any(cell.strip() for cell in cells)
        ]
    except csv.Error as error:
        raise DomainError(
            f"Line {reader.line_num} of the file cannot be read: {error}.",
            code="unreadable_file",
            field="file",
        ) from error
    return header, rows


def decode_upload(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(
            f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.",
            code="file_too_large",
            field="file",
        )
    for encoding in ("utf-8-sig", "cp1252"):  # Excel on Windows still saves cp1252
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise DomainError("The file is not text (UTF-8).", code="not_text", field="file")


def join_rows(
    rows: list[dict[str, str]], other: list[dict[str, str]], *, on: str
) -> list[dict[str, str]]:
    """Each row with the columns of the `other` row that has the same `on` value, if any."""
    by_key = {}
    for row in other:
        by_key.setdefault(row.get(on, "").strip(), row)
    joined = []
    for row in rows:
        match = by_key.get(row.get(on, "").strip(), {})
        joined.append({**{k: v for k, v in match.items() if k not in row}, **row})
    return joined


# Reading a value.


def is_blank(value: str, blanks: list[str]) -> bool:
    text = value.strip().casefold()
    return not text or text in {str(b).strip().casefold() for b in blanks}


def parse_decimal(text: str) -> Decimal:
    """ "2.5", "1,234", "1.234,5", "1 234" and "2,5": the last separator followed by other
    than exactly three digits, or of a different kind than another, is the decimal point."""
    text = text.strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        decimal_mark = "," if not re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+", text) else ""
    elif "." in text and re.fullmatch(r"[-+]?\d{1,3}(\.\d{3}){2,}", text):
        decimal_mark = ""
    else:
        decimal_mark = "."
    thousands = {",", "."} - {decimal_mark}
    for mark in thousands:
        text = text.replace(mark, "")
    text = text.replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("Enter a number.") from None
    if not number.is_finite():
        raise ValueError("Enter a number.")
    return number


def parse_yes_no(text: str) -> bool:
    word = text.strip().casefold()
    if word in YES:
        return True
    if word in NO:
        return False
    raise ValueError("Enter yes or no.")


def parse_datetime(text: str, *, formats: list[str], tz: zoneinfo.ZoneInfo) -> datetime:
    """A timezone-aware moment. A value without an offset is read in `tz`; a date alone is
    midnight there. Without `formats`, ISO 8601, RFC 2822 and year/month/day are read: a
    day-first or month-first file must say its format, since 01-02-2018 reads both ways."""
    text = text.strip()
    found: datetime | None = None
    for fmt in formats:
        try:
            found = datetime.strptime(text, fmt)  # noqa: DTZ007 - the zone is applied below
            break
        except ValueError:
            continue
    if found is None and not formats:
        found = _guess_datetime(text)
    if found is None:
        expected = " or ".join(formats) if formats else "YYYY-MM-DD"
        raise ValueError(f"Enter a date as {expected}.")
    if timezone.is_naive(found):
        found = found.replace(tzinfo=tz)
    return found


def _guess_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - the caller applies the zone
        except ValueError:
            continue
    return None


# Reading a row.


def _too_long(value: str) -> str:
    return (
        f"Longer than {MAX_CELL_CHARS:,} characters (it has {len(value):,}): "
        "no field takes that much."
    )


def field_specs(form: Form) -> list[dict[str, Any]]:
    """The fields rows are checked against: the published version's, else the draft's."""
    return form.current_version.fields if form.current_version_id else form.draft_specs()


def targets_for(form: Form) -> list[tuple[str, str]]:
    """What a column can fill, as (target, label) for a mapping form."""
    specs = field_specs(form)
    fields = [(f"{FIELD}{spec['key']}", f"Form field: {spec['label']}") for spec in specs]
    return [
        (IGNORE, "Ignore this column"),
        *fields,
        *SPECIAL_TARGETS.items(),
        (ATTRIBUTE, "Lead attribute (named after the column)"),
    ]


@dataclass(frozen=True)
class ColumnRule:
    column: str
    to: str
    blanks: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    type: str = "text"


def column_rules(mapping: dict[str, Any]) -> list[ColumnRule]:
    rules = []
    for column, rule in mapping.get("columns", {}).items():
        to = rule.get("to", IGNORE)
        if to == IGNORE:
            continue
        if to == ATTRIBUTE:
            to = f"{ATTRIBUTE}{slugify(column).replace('-', '_') or 'column'}"
        formats = rule.get("format") or []
        rules.append(
            ColumnRule(
                column=column,
                to=to,
                blanks=tuple(rule.get("blank") or ()),
                formats=tuple([formats] if isinstance(formats, str) else formats),
                type=rule.get("type") or "text",
            )
        )
    return rules


def mapping_problems(mapping: dict[str, Any], *, form: Form, columns: list[str]) -> list[str]:
    """What is wrong with a mapping as a whole, in sentences; none when it can run."""
    problems = []
    keys = {spec["key"] for spec in field_specs(form)}
    rules = column_rules(mapping)
    targets = [rule.to for rule in rules]
    for rule in rules:
        if rule.column not in columns:
            problems.append(f'The file has no column "{rule.column}".')
        if rule.to.startswith(FIELD) and rule.to[len(FIELD) :] not in keys:
            problems.append(f'The form {form} has no field "{rule.to[len(FIELD) :]}".')
        elif not rule.to.startswith((FIELD, ATTRIBUTE)) and rule.to not in SPECIAL_TARGETS:
            problems.append(f'"{rule.to}" is not something a column can fill.')
        if rule.type not in ATTRIBUTE_TYPES:
            problems.append(f'"{rule.type}" is not a type ({", ".join(ATTRIBUTE_TYPES)}).')
    for target in sorted({t for t in targets if targets.count(t) > 1}):
        problems.append(f"Two columns fill {target}; map one of them, ignore the other.")
    if f"{FIELD}email" not in targets and "external_id" not in targets:
        problems.append(
            "Map a column to the e-mail field or to the external id: leads are known by one."
        )
    zone = mapping.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems.append(f'"{zone}" is not a time zone (e.g. UTC, Europe/Berlin).')
    return problems


class RowReader:
    """Checks rows against a form and a mapping, the same way for the preview and the import."""

    def __init__(self, *, form: Form, mapping: dict[str, Any], now: datetime | None = None):
        self.rules = column_rules(mapping)
        self.specs = {spec["key"]: spec for spec in field_specs(form)}
        self.tz = zoneinfo.ZoneInfo(mapping.get("timezone") or "UTC")
        self.now = now or timezone.now()
        self.fields = {key: form_field(spec) for key, spec in self.specs.items()}
        self.country_keys = country_keys_of(self.specs.values())

    def read(self, number: int, raw: dict[str, str]) -> ParsedRow:
        row = ParsedRow(number=number, raw=raw)
        for rule in self.rules:
            value = raw.get(rule.column, "")
            if len(value) > MAX_CELL_CHARS:
                row.errors.append(RowError(rule.column, _too_long(value)))
                continue
            blank = is_blank(value, list(rule.blanks))
            if rule.to.startswith(FIELD):
                self._form_value(row, rule, rule.to[len(FIELD) :], "" if blank else value)
            elif blank:
                continue
            elif rule.to.startswith(ATTRIBUTE):
                self._attribute(row, rule, rule.to[len(ATTRIBUTE) :], value)
            else:
                self._special(row, rule, value.strip())
        self._countries(row)
        self._check_identity(row)
        self._check_history(row)
        return row

    def _countries(self, row: ParsedRow) -> None:
        """Countries become ISO codes, as live capture stores them, so the criteria and queue
        rules judge imported leads alike; one no spelling maps is kept and reported."""
        labels = {
            key: self.specs[key]["label"] if rule.to.startswith(FIELD) else rule.column
            for rule in self.rules
            if (key := rule.to.partition(":")[2]) in self.country_keys
        }
        for key in self.country_keys:
            value = row.cleaned.get(key)
            if not isinstance(value, str):
                continue
            code = country_code(value)
            if code:
                row.cleaned[key] = code
                continue
            said = f"{value!r} is no country we know; kept as sent."
            row.warnings.append(RowError(labels.get(key, key), said))
            row.problems.append(
                {"field": key, "code": "unknown_country", "message": said, "raw": value}
            )

    def _form_value(self, row: ParsedRow, rule: ColumnRule, key: str, value: str) -> None:
        spec = self.specs[key]
        label = spec["label"]
        field = self.fields[key]
        if key == "email":
            field.required = False  # an external id may stand in for it: checked below
        try:
            cleaned = field.clean(self._for_kind(spec["kind"], value, rule))
        except (ValidationError, ValueError) as error:
            reasons = error.messages if isinstance(error, ValidationError) else [str(error)]
            row.errors.extend(RowError(label, reason) for reason in reasons)
            return
        if isinstance(cleaned, Decimal):
            cleaned = format(cleaned.normalize(), "f")
        elif isinstance(cleaned, date):
            cleaned = cleaned.isoformat()
        if cleaned in (None, "", []) or (spec["kind"] == FormField.Kind.CHECKBOX and not value):
            return
        row.payload[key] = value.strip()
        row.cleaned[key] = cleaned
        if key == "email":
            # Known by the key live capture uses (`lead_capture`); kept as written.
            row.email = normalise_email(cleaned)
            row.cleaned[key] = normalise_email(cleaned, fold_plus=False)

    def _for_kind(self, kind: str, value: str, rule: ColumnRule) -> Any:
        if not value.strip():
            return ""
        if kind in (FormField.Kind.DECIMAL, FormField.Kind.NUMBER):
            number = parse_decimal(value)
            if kind == FormField.Kind.NUMBER and number != number.to_integral_value():
                raise ValueError("Enter a whole number.")
            return str(number)
        if kind in (FormField.Kind.CHECKBOX, FormField.Kind.CONSENT):
            return parse_yes_no(value)
        if kind == FormField.Kind.DATE:
            return parse_datetime(value, formats=list(rule.formats), tz=self.tz).date()
        if kind == FormField.Kind.MULTICHOICE:
            return [part.strip() for part in re.split(r"[;|]", value) if part.strip()]
        return value.strip()

    def _attribute(self, row: ParsedRow, rule: ColumnRule, name: str, value: str) -> None:
        try:
            if rule.type in ("decimal", "number"):
                number = parse_decimal(value)
                if rule.type == "number" and number != number.to_integral_value():
                    raise ValueError("Enter a whole number.")
                row.cleaned[name] = format(number.normalize(), "f")
            elif rule.type == "yes_no":
                row.cleaned[name] = parse_yes_no(value)
            elif rule.type == "date":
                moment = parse_datetime(value, formats=list(rule.formats), tz=self.tz)
                row.cleaned[name] = moment.date().isoformat()
            else:
                row.cleaned[name] = value.strip()[:1000]
        except ValueError as error:
            row.errors.append(RowError(rule.column, str(error)))
            return
        row.payload[name] = value.strip()

    def _special(self, row: ParsedRow, rule: ColumnRule, value: str) -> None:
        label = SPECIAL_TARGETS[rule.to].split(" (")[0]
        if rule.to == "external_id":
            if len(value) > ExternalLeadId._meta.get_field("external_id").max_length:
                row.errors.append(RowError(label, "Longer than 200 characters."))
            row.external_id = value
            return
        if rule.to == "outcome_reason":
            row.outcome_reason = value
            return
        if rule.to == "outcome":
            outcome = parse_outcome(value)
            if outcome is None:
                row.errors.append(
                    RowError(
                        label,
                        f'"{value}" is not won, lost or rejected '
                        "(nor 1/0, yes/no, true/false, converted/not converted).",
                    )
                )
            else:
                row.outcome = outcome
            return
        try:
            moment = parse_datetime(value, formats=list(rule.formats), tz=self.tz)
        except ValueError as error:
            row.errors.append(RowError(label, str(error)))
            return
        if moment > self.now:
            row.errors.append(RowError(label, "The date is in the future."))
        elif rule.to == "created_at":
            row.created_at = moment
        elif rule.to == "won_at":
            row.outcome, row.outcome_at = Stage.WON, moment
        else:
            row.outcome_at = moment
        row.payload[rule.to] = value

    def _check_identity(self, row: ParsedRow) -> None:
        if row.email or row.external_id:
            return
        if any(error.field == self.specs["email"]["label"] for error in row.errors):
            return
        row.errors.append(
            RowError("E-mail", "No e-mail address and no external id: the row names no lead.")
        )

    def _check_history(self, row: ParsedRow) -> None:
        if row.outcome and row.outcome_at is None:
            # No outcome date (a "Converted" 1/0 column has none): the lead's own date, the
            # file's or, without one, the import's.
            row.outcome_at = row.created_at or self.now
            whose = "the lead's own date" if row.created_at else "today, the lead's date"
            row.warnings.append(RowError("Outcome date", f"None in the file: dated {whose}."))
        if row.outcome_at and not row.outcome:
            row.errors.append(RowError("Outcome", "A date without an outcome (won, lost...)."))
        if row.created_at and row.outcome_at and row.outcome_at < row.created_at:
            # Real exports have these (one Olist deal is won two days before its first
            # contact): the outcome is the firmer fact, so the lead dates from it.
            row.warnings.append(
                RowError(
                    "Created on",
                    f"After the outcome date; the lead is dated {row.outcome_at:%Y-%m-%d}.",
                )
            )
            row.created_at = row.outcome_at
