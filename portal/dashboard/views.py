from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.accounts.decorators import permission_required_or_403
from portal.accounts.roles import role_grants
from portal.dashboard import charts
from portal.dashboard.forms import (
    DEFAULT_PERIOD,
    PERIODS,
    DashboardFilterForm,
    ReviewScheduleForm,
    filters_from,
)
from portal.dashboard.models import HandoffReview
from portal.dashboard.selectors import leads_listed_for, overdue_leads, review_schedule
from portal.dashboard.services import (
    SCHEDULERS,
    SIDES,
    review_notes_save,
    review_schedule_set,
)
from portal.dashboard.tables import PANELS, REVIEW_PANELS, Table, figures_kept
from portal.errors import DomainError
from portal.spreadsheets import SafeWriter
from scoring.selectors import agreements_active
from scoring.services import DRAFT


@permission_required_or_403("leads.view_dashboard")
def dashboard(request: HttpRequest, *, printable: bool = False) -> HttpResponse:
    """The dashboard; `printable`: the same panels on a page made for paper (no navigation,
    no filters form, the filters said in words)."""
    form = DashboardFilterForm(request.GET)
    filters = filters_from(form)
    figures = figures_kept(filters)
    tables = figures.tables
    context = {
        "form": form,
        "filters": filters,
        "tables": {key.replace("-", "_"): table for key, table in tables.items()},
        "charts": _charts(tables),
        "figures_at": figures.at,
        "figures_seconds": settings.DASHBOARD_FIGURES_SECONDS,
        "query": request.GET.urlencode(),
        "presets": _presets(request, form),
        "overdue": overdue_leads(
            filters=filters, now=timezone.now(), visible=leads_listed_for(user=request.user)
        ),
        "now": timezone.now(),
    }
    if printable:
        context["described"] = _described(form)
    template = "dashboard/print.html" if printable else "dashboard/dashboard.html"
    return render(request, template, context)


@permission_required_or_403("leads.view_dashboard")
@require_POST
def dashboard_refresh(request: HttpRequest) -> HttpResponse:
    """Compute the figures for these filters (the query string) again, for everyone, and
    show them."""
    figures_kept(filters_from(DashboardFilterForm(request.GET)), fresh=True)
    query = request.GET.urlencode()
    return redirect(reverse("dashboard") + (f"?{query}" if query else ""))


def _described(form: DashboardFilterForm) -> list[tuple[str, str]]:
    """The filters in words, for paper: the period, then each filter given."""
    data = form.cleaned_data if form.is_valid() else {}
    period = data.get("period") or DEFAULT_PERIOD
    if period == "custom":
        start, end = data.get("start"), data.get("end")
        words = f"{start or 'the first lead'} to {end or 'today'}"
    else:
        words = PERIODS[period][0]
    described = [("Period", words)]
    for name in ("form", "campaign", "source", "queue", "rep"):
        if data.get(name):
            described.append((form.fields[name].label or name.title(), str(data[name])))
    return described


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
    """Each chart from its table's rows (a review frozen before a panel existed: no bars)."""

    def rows(key: str) -> list:
        return tables[key].rows if key in tables else []

    exits = [row for row in rows("exits") if row[1] == "All"]
    return {
        "funnel": charts.horizontal_bars([(row[0], row[1]) for row in rows("funnel")]),
        "exits": charts.horizontal_bars([(row[0], row[2]) for row in exits]),
        "distribution": charts.columns([(row[0], row[1]) for row in rows("speed-distribution")]),
        "scores": charts.columns(
            [(f"v{row[0]}: {row[1]}", row[2] + row[3]) for row in rows("scores")]
        ),
        "compliance": charts.horizontal_bars(
            [(row[0], row[4]) for row in rows("compliance-queue")], top=100
        ),
        "weekly": charts.line([(_week(row[0]), row[2]) for row in rows("speed-weekly")]),
    }


def _week(day: date | str) -> str:
    """A week's first day as the chart labels it (a frozen review keeps it as text)."""
    return f"{date.fromisoformat(day) if isinstance(day, str) else day:%d %b}"


@permission_required_or_403("leads.view_dashboard")
def dashboard_csv(request: HttpRequest, panel: str) -> HttpResponse:
    """One panel as CSV, for the same filters as the page (its query string): the page's
    kept figures, so the two agree; the review's own panels, computed now."""
    if panel not in PANELS and panel not in REVIEW_PANELS:
        raise Http404(f"No panel called {panel}.")
    filters = filters_from(DashboardFilterForm(request.GET))
    if panel in PANELS:
        table = figures_kept(filters).tables[panel]
    else:
        table = REVIEW_PANELS[panel](filters)
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
    """Every review, and the day and time of the next (either manager sets them here)."""
    schedule = review_schedule()
    may_schedule = any(role_grants(request.user, permission) for permission in SCHEDULERS)
    status = 200
    form = None
    if may_schedule:
        initial = {"weekday": schedule.weekday, "at": schedule.at} if schedule else {}
        form = ReviewScheduleForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(
                "Only the sales or the marketing manager sets the review's time."
            )
        if form.is_valid():
            review_schedule_set(**form.cleaned_data, by=request.user)
            messages.success(request, f"The handoff review is now on {review_schedule().words}.")
            return redirect("review_list")
        status = 400
    context = {
        "reviews": HandoffReview.objects.defer("panels"),
        "schedule": schedule,
        "form": form,
    }
    return render(request, "dashboard/review_list.html", context, status=status)


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
    tables = {panel["key"]: Table(**panel) for panel in found.panels}
    context = {
        "review": found,
        "tables": {key.replace("-", "_"): table for key, table in tables.items()},
        "charts": _charts(tables),
        "proposable": agreements_active() if request.user.has_perm(DRAFT) else [],
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
