"""CSV import: read a file, map its columns, check each row, and store it like a submission.

A row becomes a submission of the chosen form (dated when the lead first reached the
company, if a column says so) and goes through the normal handoff: `submission_stored`,
then scoring by the active agreement, then routing. A row may also carry the lead's later
outcome (won, lost, rejected), recorded by the lifecycle as a dated event; such a lead is
no longer qualified when the handoff looks at it, so it never reaches a rep's inbox. An import
told not to hand open leads to reps (`route_open_leads`, off) marks its submissions so: the
handoff scores them and keeps a qualified lead they alone brought in nurture.

Identity, in this order: the row's external id for the import's source (a lead without an
e-mail address is known by it), then its e-mail address normalised as live capture does it
(`services.normalise_email`: trimmed, lower-cased, a +tag folded when FOLD_PLUS_ADDRESSES is
on), so an imported row and a form post by the same person are one lead. A row with neither
is skipped. Re-running a file changes nothing: each row's submission carries an idempotency key
made of the source, the row's identity and a digest of its values.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.text import slugify

from leads.capture.imports.models import ExternalLeadId, ImportRow, LeadImport
from leads.capture.imports.reading import (
    FIELD,
    IGNORE,
    ParsedRow,
    RowError,
    RowReader,
    field_specs,
    mapping_problems,
    read_csv,
)
from leads.capture.models import Form, FormField
from leads.capture.services import LEAD_COLUMNS
from leads.events import event_lead_imported
from leads.lifecycle import IllegalMove, lead_record_outcome
from leads.locks import lead_locked, row_locked
from leads.models import Lead, LostReason, RejectionReason, Stage, Submission
from leads.signals import submission_stored
from portal.errors import DomainError
from portal.notifications.models import Kind as Told
from portal.notifications.services import Notice, notices_send
from portal.spreadsheets import unique_header

PREVIEW_ROWS = 10
CHUNK_ROWS = 100
NO_EMAIL_DOMAIN = "import.invalid"  # RFC 2606: .invalid is never a real address.


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


def import_map(
    *,
    lead_import: LeadImport,
    mapping: dict[str, Any],
    time_zone: str,
    route_open_leads: bool | None = None,
) -> LeadImport:
    """Save how the columns map (and, if given, whether open leads go to reps); refused with
    every problem named, and once the import has started."""
    if lead_import.status != LeadImport.Status.MAPPING:
        raise DomainError("This import has started; its mapping no longer changes.")
    problems = mapping_problems(
        {**mapping, "timezone": time_zone}, form=lead_import.form, columns=lead_import.columns
    )
    if problems:
        raise DomainError(" ".join(problems), code="bad_mapping", field="mapping")
    lead_import.mapping = mapping
    lead_import.time_zone = time_zone
    if route_open_leads is not None:
        lead_import.route_open_leads = route_open_leads
    lead_import.save(update_fields=["mapping", "time_zone", "route_open_leads"])
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
        try:
            _header, rows = read_csv(lead_import.content)
        except DomainError as error:  # read at upload; only a reader changed since fails here
            import_fail(lead_import_id=lead_import_id, why=error.message)
            lead_import.refresh_from_db()
            return lead_import
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
                _tell_author(lead_import)
                return lead_import
            _import_chunk(lead_import, reader, list(enumerate(chunk, start=start + 1)))
            lead_import.refresh_from_db()
        if progress:
            progress(lead_import)
        if deadline is not None and monotonic() > deadline:
            return lead_import


def import_fail(*, lead_import_id: int, why: str) -> None:
    with transaction.atomic():
        failed = (
            LeadImport.objects.filter(pk=lead_import_id)
            .exclude(status__in=[LeadImport.Status.DONE, LeadImport.Status.FAILED])
            .update(
                status=LeadImport.Status.FAILED,
                failure=why[:2000],
                finished_at=timezone.now(),
                due_at=None,
            )
        )
        if failed:
            _tell_author(LeadImport.objects.select_related("form").get(pk=lead_import_id))


def _tell_author(lead_import: LeadImport) -> None:
    """Whoever started an import hears when it is done or failed (in its transaction)."""
    if lead_import.created_by_id is None:
        return
    if lead_import.status == LeadImport.Status.DONE:
        title = f"Your import {lead_import} is done"
        detail = (
            f"{lead_import.created_leads} new leads, {lead_import.updated_leads} updated, "
            f"{lead_import.unchanged_rows} unchanged, {lead_import.skipped_rows} rows skipped."
        )
    else:
        title = f"Your import {lead_import} failed"
        detail = lead_import.failure
    notices_send(
        [
            Notice(
                recipient_id=lead_import.created_by_id,
                kind=Told.IMPORT_FINISHED,
                title=title,
                detail=detail,
                url=lead_import.get_absolute_url(),
            )
        ]
    )


def import_lease() -> datetime:
    """Until when a queued or running import's message counts as alive: its own run, plus
    another import's run it may wait behind, plus the broker's redelivery of a dead worker's
    message (the visibility timeout, twice the limit): four times the longest a task runs."""
    seconds = 4 * settings.CELERY_TASK_TIME_LIMIT
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
        problems=row.problems,
        user_agent=f"CSV import {lead_import.pk}: {lead_import.file_name}"[:500],
        intake="import",
        for_reps=lead_import.route_open_leads,
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
        attributes = {"email": email, **row.cleaned}
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
    """The report: every row skipped, and every row imported with a warning, and why; the
    file's columns follow ours, "outcome (file)" where the file has an `outcome` of its own.
    Write it with `portal.spreadsheets.SafeWriter`: the values are as the file had them."""
    yield unique_header(
        ["row", "outcome", "field", "reason"], lead_import.columns, qualifier="file"
    )
    said = lead_import.rows.exclude(errors=[]).order_by("number")
    for row in said.iterator(chunk_size=500):
        values = [row.values.get(column, "") for column in lead_import.columns]
        for error in row.errors:
            yield [row.number, row.outcome, error["field"], error["reason"], *values]
