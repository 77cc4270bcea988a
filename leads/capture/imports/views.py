"""CSV import pages: upload, map the columns (with a preview), follow the progress, download
the report. Works without JavaScript (the progress page reloads itself); with it, the bar
polls a small JSON endpoint."""

import zoneinfo

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from leads.capture.imports.models import LeadImport
from leads.capture.imports.reading import ATTRIBUTE_TYPES, decode_upload, targets_for
from leads.capture.imports.services import (
    import_create,
    import_map,
    import_start,
    preview,
    report_rows,
)
from leads.capture.imports.tasks import queue_import
from leads.capture.models import Form
from leads.capture.selectors import import_lead_stages
from portal.accounts.decorators import permission_required_or_403
from portal.errors import DomainError
from portal.spreadsheets import SafeWriter

IMPORT = "capture.import_leads"
PAGE_SIZE = 20


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="UTF-8, with a header line naming the columns."
    )
    form = forms.ModelChoiceField(
        queryset=Form.objects.exclude(status=Form.Status.ARCHIVED),
        label="Import into the form",
        help_text="Rows become submissions of this form and are scored like any other.",
    )
    source = forms.SlugField(
        label="Source",
        max_length=64,
        help_text="Where the rows come from (e.g. olist): external ids are unique per source.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone of the dates",
        initial="UTC",
        help_text="Dates without an offset are read in this zone.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(z, z) for z in sorted(zoneinfo.available_timezones())]


@permission_required_or_403(IMPORT)
def import_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in LeadImport.Status.values:
        status = ""
    imports = LeadImport.objects.select_related("form", "created_by").defer("content")
    if search:
        imports = imports.filter(file_name__icontains=search) | imports.filter(
            source__icontains=search
        )
    if status:
        imports = imports.filter(status=status)
    page = Paginator(imports, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "status": status,
        "statuses": LeadImport.Status.choices,
    }
    return render(request, "capture/import_list.html", context)


@permission_required_or_403(IMPORT)
def import_new(request: HttpRequest) -> HttpResponse:
    bound = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and bound.is_valid():
        data = bound.cleaned_data
        try:
            lead_import = import_create(
                form=data["form"],
                source=data["source"],
                file_name=data["file"].name,
                content=decode_upload(data["file"].read()),
                by=request.user,
                time_zone=data["time_zone"],
            )
        except DomainError as error:
            bound.add_error("file", error.message)
        else:
            return redirect(lead_import)
    return render(request, "capture/import_new.html", {"upload": bound})


@permission_required_or_403(IMPORT)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead_import = get_object_or_404(LeadImport.objects.select_related("form"), pk=pk)
    if lead_import.status != LeadImport.Status.MAPPING:
        stages = import_lead_stages(lead_import=lead_import) if lead_import.is_finished else []
        context = {"import": lead_import, "stages": stages}
        return render(request, "capture/import_progress.html", context)
    problem = ""
    if request.method == "POST":
        try:
            import_map(
                lead_import=lead_import,
                mapping=_posted_mapping(request, lead_import),
                time_zone=request.POST.get("time_zone", lead_import.time_zone),
                # An unticked box sends nothing: open leads go to reps unless asked otherwise.
                route_open_leads=request.POST.get("no_route") != "on",
            )
            messages.success(request, "Mapping saved. Check the preview, then start the import.")
            return redirect(lead_import)
        except DomainError as error:
            problem = error.message
            lead_import.mapping = _posted_mapping(request, lead_import)
            lead_import.route_open_leads = request.POST.get("no_route") != "on"
    columns = []
    for number, name in enumerate(lead_import.columns):
        rule = lead_import.mapping.get("columns", {}).get(name, {})
        columns.append(
            {
                "index": number,
                "name": name,
                "to": rule.get("to", "ignore"),
                "blank": ", ".join(rule.get("blank") or []),
                "format": rule.get("format") or "",
                "type": rule.get("type") or "text",
            }
        )
    rows = []
    if not problem:
        try:
            rows = preview(lead_import)
        except DomainError as error:  # read at upload; only a reader changed since fails here
            problem = error.message
    context = {
        "import": lead_import,
        "columns": columns,
        "targets": targets_for(lead_import.form),
        "types": ATTRIBUTE_TYPES,
        "problem": problem,
        "rows": rows,
        "zones": sorted(zoneinfo.available_timezones()),
    }
    return render(request, "capture/import_map.html", context)


def _posted_mapping(request: HttpRequest, lead_import: LeadImport) -> dict:
    columns = {}
    for number, name in enumerate(lead_import.columns):
        rule = {"to": request.POST.get(f"to-{number}", "ignore")}
        blank = [v.strip() for v in request.POST.get(f"blank-{number}", "").split(",") if v.strip()]
        if blank:
            rule["blank"] = blank
        if request.POST.get(f"format-{number}", "").strip():
            rule["format"] = request.POST[f"format-{number}"].strip()
        if request.POST.get(f"type-{number}", "text") != "text":
            rule["type"] = request.POST[f"type-{number}"]
        columns[name] = rule
    return {"columns": columns}


@permission_required_or_403(IMPORT)
@require_POST
def import_begin(request: HttpRequest, pk: int) -> HttpResponse:
    lead_import = get_object_or_404(LeadImport, pk=pk)
    try:
        import_start(lead_import=lead_import, queue=queue_import)
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(lead_import)


@permission_required_or_403(IMPORT)
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    lead_import = get_object_or_404(LeadImport.objects.defer("content"), pk=pk)
    return JsonResponse(
        {
            "status": lead_import.status,
            "status_label": lead_import.get_status_display(),
            "percent": lead_import.percent,
            "processed": lead_import.processed_rows,
            "total": lead_import.total_rows,
            "created": lead_import.created_leads,
            "updated": lead_import.updated_leads,
            "unchanged": lead_import.unchanged_rows,
            "skipped": lead_import.skipped_rows,
            "finished": lead_import.is_finished,
            "failure": lead_import.failure,
            "report": reverse("capture:import_report", kwargs={"pk": pk}),
        }
    )


@permission_required_or_403(IMPORT)
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    lead_import = get_object_or_404(LeadImport.objects.defer("content"), pk=pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{pk}-report.csv"'
    SafeWriter(response).writerows(report_rows(lead_import))
    return response
