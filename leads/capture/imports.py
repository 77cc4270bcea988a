"""CSV import: read a file, map its columns, check each row, and store it like a submission.

A row becomes a submission of the chosen form (dated when the lead first reached the
company, if a column says so) and goes through the normal handoff: `submission_stored`,
then scoring by the active agreement, then routing. A row may also carry the lead's later
outcome (won, lost, rejected), recorded by the lifecycle as a dated event; such a lead is
no longer qualified when the handoff looks at it, so it never reaches a rep's inbox.

Identity, in this order: the row's external id for the import's source (a lead without an
e-mail address is known by it), then its normalised e-mail address. A row with neither is
skipped. Re-running a file changes nothing: each row's submission carries an idempotency key
made of the source, the row's identity and a digest of its values.
"""

import csv
import hashlib
import io
import json
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.text import slugify

from leads.capture.fields import form_field
from leads.capture.import_models import ExternalLeadId, ImportRow, LeadImport
from leads.capture.models import Form, FormField
from leads.events import event_lead_imported
from leads.lifecycle import IllegalMove, lead_record_outcome
from leads.locks import lead_locked, row_locked
from leads.models import Lead, LostReason, RejectionReason, Stage, Submission
from leads.signals import submission_stored
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
LEAD_COLUMNS = ("first_name", "last_name", "company")
PREVIEW_ROWS = 10
CHUNK_ROWS = 100
MAX_FILE_BYTES = 20 * 1024 * 1024
NO_EMAIL_DOMAIN = "import.invalid"  # RFC 2606: .invalid is never a real address.

YES = {"yes", "y", "true", "t", "1", "x", "on", "sim", "s", "ja", "oui", "si"}
NO = {"no", "n", "false", "f", "0", "off", "nao", "não", "nein", "non"}
OUTCOMES = {
    "won": Stage.WON,
    "converted": Stage.WON,
    "closed won": Stage.WON,
    "lost": Stage.LOST,
    "closed lost": Stage.LOST,
    "rejected": Stage.REJECTED,
}
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

    @property
    def identity(self) -> str:
        return f"id:{self.external_id}" if self.external_id else f"email:{self.email}"


# Reading the file.


def read_csv(content: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the data rows of a CSV text (comma, semicolon or tab separated)."""
    sample = content[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content), dialect)
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

    def read(self, number: int, raw: dict[str, str]) -> ParsedRow:
        row = ParsedRow(number=number, raw=raw)
        for rule in self.rules:
            value = raw.get(rule.column, "")
            blank = is_blank(value, list(rule.blanks))
            if rule.to.startswith(FIELD):
                self._form_value(row, rule, rule.to[len(FIELD) :], "" if blank else value)
            elif blank:
                continue
            elif rule.to.startswith(ATTRIBUTE):
                self._attribute(row, rule, rule.to[len(ATTRIBUTE) :], value)
            else:
                self._special(row, rule, value.strip())
        self._check_identity(row)
        self._check_history(row)
        return row

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
        if key == "email":
            row.email = cleaned.strip().lower()
        else:
            row.cleaned[key] = cleaned

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
            outcome = OUTCOMES.get(value.casefold())
            if outcome is None:
                row.errors.append(RowError(label, f'"{value}" is not won, lost or rejected.'))
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
            row.outcome_at = row.created_at
            if row.outcome_at is None:
                row.errors.append(RowError("Outcome date", "An outcome needs its date."))
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


def preview(lead_import: LeadImport, *, rows: int = PREVIEW_ROWS) -> list[ParsedRow]:
    """The first rows as the import would read them, with the errors each would get."""
    _header, data = read_csv(lead_import.content)
    reader = RowReader(form=lead_import.form, mapping=_mapping(lead_import))
    return [reader.read(number, raw) for number, raw in enumerate(data[:rows], start=1)]


def _mapping(lead_import: LeadImport) -> dict[str, Any]:
    return {**lead_import.mapping, "timezone": lead_import.time_zone}


# Services.


def import_create(
    *, form: Form, source: str, file_name: str, content: str, by, time_zone: str = "UTC"
) -> LeadImport:
    header, rows = read_csv(content)
    if not rows:
        raise DomainError("The file has a header but no rows.", code="no_rows", field="file")
    return LeadImport.objects.create(
        form=form,
        source=slugify(source)[:64] or slugify(form.slug),
        file_name=file_name[:255],
        content=content,
        columns=header,
        mapping={"columns": {name: {"to": _guess_target(name, form)} for name in header}},
        time_zone=time_zone,
        total_rows=len(rows),
        created_by=by,
    )


def _guess_target(column: str, form: Form) -> str:
    key = slugify(column).replace("-", "_")
    for spec in field_specs(form):
        if key == spec["key"] or column.strip().casefold() == spec["label"].casefold():
            return f"{FIELD}{spec['key']}"
    if key in ("e_mail", "email_address", "mail"):
        return f"{FIELD}email"
    return IGNORE


def import_map(*, lead_import: LeadImport, mapping: dict[str, Any], time_zone: str) -> LeadImport:
    if lead_import.status != LeadImport.Status.MAPPING:
        raise DomainError("This import has started; its mapping no longer changes.")
    problems = mapping_problems(
        {**mapping, "timezone": time_zone}, form=lead_import.form, columns=lead_import.columns
    )
    if problems:
        raise DomainError(" ".join(problems), code="bad_mapping", field="mapping")
    lead_import.mapping = mapping
    lead_import.time_zone = time_zone
    lead_import.save(update_fields=["mapping", "time_zone"])
    return lead_import


def import_start(*, lead_import: LeadImport, queue: Callable[[int], object]) -> LeadImport:
    """Mark the import queued and, after the commit, `queue` its run (`tasks.queue_import`);
    once: a second click finds it queued and sends nothing."""
    problems = mapping_problems(
        _mapping(lead_import), form=lead_import.form, columns=lead_import.columns
    )
    if problems:
        raise DomainError(" ".join(problems), code="bad_mapping", field="mapping")
    with transaction.atomic():
        claimed = LeadImport.objects.filter(
            pk=lead_import.pk, status=LeadImport.Status.MAPPING
        ).update(status=LeadImport.Status.QUEUED, due_at=import_lease())
        if claimed:
            transaction.on_commit(lambda: queue(lead_import.pk))
    lead_import.refresh_from_db()
    return lead_import


def import_run(
    *,
    lead_import_id: int,
    rows: list[dict[str, str]] | None = None,
    progress: Callable[[LeadImport], object] | None = None,
    budget_seconds: float | None = None,
) -> LeadImport:
    """Import the rows after the import's cursor, a chunk per transaction, until done or
    until `budget_seconds` ran out (the import is then still running: call again).

    Each chunk locks the import's row and moves its cursor (`processed_rows`), so two
    deliveries of the task never import a row twice. `rows` replaces the stored file (the
    command passes a joined file); `progress` is called with the import after each chunk.
    """
    claimed = LeadImport.objects.filter(
        pk=lead_import_id, status__in=[LeadImport.Status.QUEUED, LeadImport.Status.RUNNING]
    ).update(status=LeadImport.Status.RUNNING, started_at=Coalesce("started_at", Now()))
    lead_import = LeadImport.objects.select_related("form__current_version").get(pk=lead_import_id)
    if not claimed:
        return lead_import
    if rows is None:
        _header, rows = read_csv(lead_import.content)
    reader = RowReader(form=lead_import.form, mapping=_mapping(lead_import))
    deadline = None if budget_seconds is None else monotonic() + budget_seconds
    while True:
        with transaction.atomic():
            lead_import = row_locked(LeadImport, lead_import_id)
            if lead_import.status != LeadImport.Status.RUNNING:
                return lead_import
            start = lead_import.processed_rows
            chunk = rows[start : start + CHUNK_ROWS]
            if not chunk:
                lead_import.status = LeadImport.Status.DONE
                lead_import.finished_at = timezone.now()
                lead_import.due_at = None
                lead_import.save(update_fields=["status", "finished_at", "due_at"])
                return lead_import
            _import_chunk(lead_import, reader, list(enumerate(chunk, start=start + 1)))
            lead_import.refresh_from_db()
        if progress:
            progress(lead_import)
        if deadline is not None and monotonic() > deadline:
            return lead_import


def import_fail(*, lead_import_id: int, why: str) -> None:
    LeadImport.objects.filter(pk=lead_import_id).exclude(status=LeadImport.Status.DONE).update(
        status=LeadImport.Status.FAILED,
        failure=why[:2000],
        finished_at=timezone.now(),
        due_at=None,
    )


def import_lease() -> datetime:
    """Until when a queued or running import's message counts as alive: the sweeper's lease
    plus the longest a task may run, since a message may wait behind another import's run."""
    seconds = settings.LEADBRIDGE_SWEEP_AFTER_SECONDS + settings.CELERY_TASK_TIME_LIMIT
    return timezone.now() + timedelta(seconds=seconds)


def imports_claim_stalled(*, limit: int = 100) -> list[int]:
    """Queued or running imports whose message is presumed lost, leased again for one more."""
    with transaction.atomic():
        due = LeadImport.objects.filter(
            due_at__lte=timezone.now(),
            status__in=[LeadImport.Status.QUEUED, LeadImport.Status.RUNNING],
        )
        ids = list(
            due.order_by("due_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        LeadImport.objects.filter(pk__in=ids).update(due_at=import_lease())
    return ids


def _import_chunk(lead_import: LeadImport, reader: RowReader, chunk) -> None:
    counts = dict.fromkeys(ImportRow.Outcome.values, 0)
    done = []
    for number, raw in chunk:
        row = reader.read(number, raw)
        outcome, lead = ImportRow.Outcome.SKIPPED, None
        if not row.errors:
            try:
                with transaction.atomic():
                    outcome, lead = _import_row(lead_import, row)
            except DomainError as error:
                row.errors.append(RowError("Row", error.message))
            except IntegrityError:
                row.errors.append(
                    RowError("Row", "The lead was captured meanwhile; run the import again.")
                )
        counts[outcome] += 1
        said = row.errors or row.warnings
        done.append(
            ImportRow(
                lead_import=lead_import,
                number=number,
                outcome=outcome,
                lead=lead,
                errors=[error.as_dict() for error in said],
                values=raw if said else {},
            )
        )
    ImportRow.objects.bulk_create(done)
    LeadImport.objects.filter(pk=lead_import.pk).update(
        processed_rows=F("processed_rows") + len(chunk),
        created_leads=F("created_leads") + counts[ImportRow.Outcome.CREATED],
        updated_leads=F("updated_leads") + counts[ImportRow.Outcome.UPDATED],
        unchanged_rows=F("unchanged_rows") + counts[ImportRow.Outcome.UNCHANGED],
        skipped_rows=F("skipped_rows") + counts[ImportRow.Outcome.SKIPPED],
        due_at=import_lease(),
    )


def _idempotency_key(lead_import: LeadImport, row: ParsedRow) -> str:
    values = json.dumps(row.payload, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(values.encode()).hexdigest()[:16]
    identity = hashlib.sha256(row.identity.encode()).hexdigest()[:24]
    return f"import:{lead_import.source}:{identity}:{digest}"


def _import_row(lead_import: LeadImport, row: ParsedRow) -> tuple[str, Lead]:
    form = lead_import.form
    key = _idempotency_key(lead_import, row)
    earlier = Submission.objects.filter(form=form, idempotency_key=key).first()
    if earlier is not None:
        return ImportRow.Outcome.UNCHANGED, earlier.lead
    lead, created = _lead_for(lead_import, row)
    received_at = row.created_at or timezone.now()
    if not created:
        _merge(lead, row)
    submission = Submission.objects.create(
        form=form,
        form_version=form.current_version,
        lead=lead,
        payload=row.payload,
        received_at=received_at,
        consent=any(row.cleaned.get(key) is True for key in _consent_keys(form)),
        idempotency_key=key,
        user_agent=f"CSV import {lead_import.pk}: {lead_import.file_name}"[:500],
    )
    event_lead_imported(
        lead=lead,
        submission=submission,
        created=created,
        by=lead_import.created_by,
        lead_import_id=lead_import.pk,
        row=row.number,
    )
    if row.outcome and lead.stage != row.outcome:
        _record_outcome(lead_import, lead, row)
    submission_stored.send(sender=Submission, submission=submission)
    return (ImportRow.Outcome.CREATED if created else ImportRow.Outcome.UPDATED), lead


def _consent_keys(form: Form) -> set[str]:
    return {"consent"} | {
        spec["key"] for spec in field_specs(form) if spec["kind"] == FormField.Kind.CONSENT
    }


def _lead_for(lead_import: LeadImport, row: ParsedRow) -> tuple[Lead, bool]:
    """The lead the row names, locked; created (dated by the row) if it is new."""
    if row.external_id:
        known = ExternalLeadId.objects.filter(
            source=lead_import.source, external_id=row.external_id
        ).values_list("lead_id", flat=True)
        if known:
            return lead_locked(known[0]), False
    email = row.email or _no_email_address(lead_import.source, row.external_id)
    lead = Lead.objects.select_for_update().filter(email=email).first()
    created = lead is None
    if created:
        attributes = {**row.cleaned, "email": email}
        created_at = row.created_at or timezone.now()
        # A lead captured by the intake meanwhile fails the unique e-mail: the row's
        # savepoint rolls back and the row is reported (IntegrityError, `_import_chunk`).
        lead = Lead.objects.create(
            email=email,
            attributes=attributes,
            source_form=lead_import.form,
            campaign=lead_import.form.campaign,
            created_at=created_at,
            stage_changed_at=created_at,
            **{column: str(attributes.get(column, ""))[:150] for column in LEAD_COLUMNS},
        )
    if row.external_id:
        ExternalLeadId.objects.create(
            source=lead_import.source, external_id=row.external_id, lead=lead
        )
    return lead, created


def _no_email_address(source: str, external_id: str) -> str:
    """The address a lead known only by an external id is stored under: it names the source
    and the id, and its reserved .invalid domain can never receive mail."""
    local = re.sub(r"[^a-z0-9._-]", "-", external_id.lower()).strip(".-")[:40] or "lead"
    digest = hashlib.sha256(external_id.encode()).hexdigest()[:8]
    if local != external_id.lower():
        local = f"{local}-{digest}"
    return f"{local}@{source}.{NO_EMAIL_DOMAIN}"


def _merge(lead: Lead, row: ParsedRow) -> None:
    lead.attributes = {**lead.attributes, **row.cleaned}
    fields = ["attributes", "updated_at"]
    for column in LEAD_COLUMNS:
        if row.cleaned.get(column):
            setattr(lead, column, str(row.cleaned[column])[:150])
            fields.append(column)
    if row.created_at and row.created_at < lead.created_at:
        # The company knew the lead before LeadBridge did.
        lead.created_at = row.created_at
        fields.append("created_at")
    lead.save(update_fields=fields)


def _record_outcome(lead_import: LeadImport, lead: Lead, row: ParsedRow) -> None:
    reasons = RejectionReason if row.outcome == Stage.REJECTED else LostReason
    code = _reason_code(reasons, row.outcome_reason) if row.outcome != Stage.WON else ""
    said = {Stage.WON: "Won", Stage.LOST: "Lost", Stage.REJECTED: "Rejected"}[row.outcome]
    because = f": {row.outcome_reason}" if row.outcome_reason else ""
    who = lead_import.created_by or "a script"
    try:
        lead_record_outcome(
            lead=lead,
            to=row.outcome,
            at=row.outcome_at,
            by=lead_import.created_by,
            reason=f"{said} on {row.outcome_at:%Y-%m-%d}{because} (from row {row.number} of "
            f"{lead_import.file_name}, imported by {who}).",
            reason_code=code,
            data={"import": lead_import.pk, "row": row.number, "source": lead_import.source},
        )
    except IllegalMove as error:
        raise DomainError(
            f"{lead} is already {Stage(lead.stage).label.lower()} in LeadBridge: an imported "
            "outcome does not overwrite it.",
            code="lead_in_sales",
        ) from error


def _reason_code(reasons, text: str) -> str:
    wanted = text.strip().casefold()
    for value, label in reasons.choices:
        if wanted in (value, label.casefold()):
            return value
    return reasons.OTHER.value


def report_rows(lead_import: LeadImport):
    """The report: every row skipped, and every row imported with a warning, and why."""
    yield ["row", "outcome", "field", "reason", *lead_import.columns]
    said = lead_import.rows.exclude(errors=[]).order_by("number")
    for row in said.iterator(chunk_size=500):
        values = [row.values.get(column, "") for column in lead_import.columns]
        for error in row.errors:
            yield [row.number, row.outcome, error["field"], error["reason"], *values]
