"""CSV exports, streamed: rows are written as the database hands them over, in chunks, so a
big export never sits in memory. Every cell a visitor could have typed is defused against
spreadsheet formulas (CSV injection)."""

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from leads.capture.models import Form
from leads.capture.selectors import export_field_keys, forms_for_marketing, submissions_for_export
from leads.models import Submission
from portal.accounts.decorators import permission_required_or_403

EXPORT = "leads.export_leads"
CHUNK = 2000
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """csv.writer writes into this and gets the line back, for a generator to yield."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value: object) -> object:
    """A cell as text a spreadsheet shows and never runs; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list):
        value = ";".join(map(str, value))
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def iso(moment: datetime | None) -> str:
    """ISO 8601 with the offset, in the portal's time zone."""
    return timezone.localtime(moment).isoformat() if moment else ""


def csv_response(name: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a byte-order mark, so spreadsheets read the file as UTF-8
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(value) for value in row])

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required_or_403(EXPORT)
def submissions_export(request: HttpRequest) -> StreamingHttpResponse:
    """The submissions of the forms the form list shows with these filters (q, status), or
    of one form (form=<id>), oldest first."""
    status = request.GET.get("status", "")
    forms = forms_for_marketing(
        search=request.GET.get("q", "").strip()[:200],
        status=status if status in Form.Status.values else "",
    )
    form_id = request.GET.get("form", "")
    if form_id:
        forms = forms.filter(pk=int(form_id) if form_id.isdigit() else 0)
    keys = export_field_keys(forms=forms)
    header = [
        "submission_id",
        "received_at",
        "form",
        "form_version",
        "lead_email",
        "lead_stage",
        "page_url",
        *UTM_KEYS,
        "consent",
        *keys,
    ]
    submissions = submissions_for_export(forms=forms).iterator(chunk_size=CHUNK)
    return csv_response("submissions", header, (_submission_row(s, keys) for s in submissions))


def _submission_row(submission: Submission, keys: list[str]) -> list:
    version = submission.form_version
    return [
        submission.pk,
        submission.received_at,
        submission.form.name,
        version.number if version else "",
        submission.lead.email,
        submission.lead.stage,
        submission.page_url,
        *(submission.utm.get(key, "") for key in UTM_KEYS),
        submission.consent,
        *(submission.payload.get(key, "") for key in keys),
    ]
