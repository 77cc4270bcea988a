from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.accounts.decorators import permission_required_or_403
from portal.dashboard import charts
from portal.dashboard.forms import PERIODS, DashboardFilterForm, filters_from
from portal.dashboard.selectors import leads_listed_for, overdue_leads
from portal.dashboard.tables import PANELS, all_tables
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
        "weekly": charts.line([(f"{row[0]:%d %b}", row[2]) for row in tables["speed-weekly"].rows]),
    }


@permission_required_or_403("leads.view_dashboard")
def dashboard_csv(request: HttpRequest, panel: str) -> HttpResponse:
    """One panel as CSV, for the same filters as the page (its query string)."""
    if panel not in PANELS:
        raise Http404(f"No panel called {panel}.")
    table = PANELS[panel](filters_from(DashboardFilterForm(request.GET)))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="dashboard-{panel}-{stamp}.csv"'
    writer = SafeWriter(response)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(row)
    return response
