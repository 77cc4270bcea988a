from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from portal.accounts.decorators import permission_required_or_403
from portal.accounts.roles import role_grants
from portal.dashboard import charts
from portal.dashboard.forms import PERIODS, DashboardFilterForm, filters_from
from portal.dashboard.models import HandoffReview
from portal.dashboard.selectors import leads_listed_for, overdue_leads
from portal.dashboard.services import SIDES, review_notes_save
from portal.dashboard.tables import PANELS, all_tables
from portal.errors import DomainError
from portal.spreadsheets import SafeWriter


@permission_required_or_403("leads.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET)
    filters = filters_from(form)
    tables = all_tables(filters)
    context = {
        "form": form,
        "filters": filters,
        "tables": {key.replace("-", "_"): table for key, table in tables.items()},
        "charts": _charts(tables),
        "query": request.GET.urlencode(),
        "presets": _presets(request, form),
        "overdue": overdue_leads(
            filters=filters, now=timezone.now(), visible=leads_listed_for(user=request.user)
        ),
        "now": timezone.now(),
    }
    return render(request, "dashboard/dashboard.html", context)


def _presets(request: HttpRequest, form: DashboardFilterForm) -> list[tuple[str, str, bool]]:
    """One link per preset period, keeping the other filters."""
    chosen = form.cleaned_data.get("period") if form.is_valid() else ""
    links = []
    for key, (label, _) in PERIODS.items():
        if key == "custom":
            continue
        params = request.GET.copy()
        for name in ("start", "end"):
            params.pop(name, None)
        params["period"] = key
        links.append((label, f"?{params.urlencode()}", key == chosen))
    return links


def _charts(tables: dict) -> dict:
    exits = [row for row in tables["exits"].rows if row[1] == "All"]
    return {
        "funnel": charts.horizontal_bars([(row[0], row[1]) for row in tables["funnel"].rows]),
        "exits": charts.horizontal_bars([(row[0], row[2]) for row in exits]),
        "distribution": charts.columns(
            [(row[0], row[1]) for row in tables["speed-distribution"].rows]
        ),
        "scores": charts.columns(
            [(f"v{row[0]}: {row[1]}", row[2] + row[3]) for row in tables["scores"].rows]
        ),
        "compliance": charts.horizontal_bars(
            [(row[0], row[4]) for row in tables["compliance-queue"].rows], top=100
        ),
        "weekly": charts.line([(f"{row[0]:%d %b}", row[2]) for row in tables["speed-weekly"].rows]),
    }


@permission_required_or_403("leads.view_dashboard")
def dashboard_csv(request: HttpRequest, panel: str) -> HttpResponse:
    """One panel as CSV, for the same filters as the page (its query string)."""
    if panel not in PANELS:
        raise Http404(f"No panel called {panel}.")
    table = PANELS[panel](filters_from(DashboardFilterForm(request.GET)))
    stamp = timezone.localdate().isoformat()
    return _csv(f"dashboard-{panel}-{stamp}", table.columns, table.rows)


def _csv(name: str, columns: list, rows: list) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = SafeWriter(response)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
    return response


@permission_required_or_403("leads.view_dashboard")
def review_list(request: HttpRequest) -> HttpResponse:
    reviews = HandoffReview.objects.defer("panels")
    return render(request, "dashboard/review_list.html", {"reviews": reviews})


@permission_required_or_403("leads.view_dashboard")
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """A frozen review: its panels, each side's notes (its manager edits them here)."""
    found = get_object_or_404(HandoffReview, pk=pk)
    error, status = None, 200
    if request.method == "POST":
        side = request.POST.get("side", "")
        try:
            review_notes_save(
                review=found, side=side, text=request.POST.get("text", ""), by=request.user
            )
        except DomainError as refused:
            error, status = refused, refused.status
        else:
            messages.success(request, f"The {side} notes are saved.")
            return redirect(found)
    panels = {panel["key"].replace("-", "_"): panel for panel in found.panels}
    context = {
        "review": found,
        "tables": panels,
        "error": error,
        "notes": [
            ("marketing", "Marketing's notes", found.marketing_notes),
            ("sales", "Sales' notes", found.sales_notes),
        ],
        "may_write": [side for side, (_, perm) in SIDES.items() if role_grants(request.user, perm)],
    }
    return render(request, "dashboard/review.html", context, status=status)


@permission_required_or_403("leads.view_dashboard")
def review_csv(request: HttpRequest, pk: int, panel: str) -> HttpResponse:
    found = get_object_or_404(HandoffReview, pk=pk)
    try:
        table = found.panel(panel)
    except StopIteration:
        raise Http404(f"No panel called {panel}.") from None
    return _csv(f"review-{found.since}-{found.until}-{panel}", table["columns"], table["rows"])
