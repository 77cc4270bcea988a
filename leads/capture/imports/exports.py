"""CSV exports, streamed: rows are written as the database hands them over, in chunks, so a
big export never sits in memory. Every cell, the header's too, is defused against
spreadsheet formulas (CSV injection) by `portal.spreadsheets`."""

from collections.abc import Iterable, Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from leads.capture.models import Form
from leads.capture.selectors import export_field_keys, forms_for_marketing, submissions_for_export
from leads.models import Submission
from portal.accounts.decorators import permission_required_or_403
from portal.spreadsheets import SafeWriter, unique_header

EXPORT = "leads.export_leads"
CHUNK = 2000
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class _Echo:
    """csv.writer writes into this and gets the line back, for a generator to yield."""

    def write(self, value: str) -> str:
        return value


def csv_response(name: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    writer = SafeWriter(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # a byte-order mark, so spreadsheets read the file as UTF-8
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

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
    # A form field keyed like a column of ours (`consent`, most often) is "consent (form field)".
    header = unique_header(
        [
            "submission_id",
            "received_at",
            "form",
            "form_version",
            "lead_email",
            "lead_stage",
            "page_url",
            *UTM_KEYS,
            "consent",
        ],
        keys,
        qualifier="form field",
    )
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
