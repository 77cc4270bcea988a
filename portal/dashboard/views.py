from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.accounts.decorators import permission_required_or_403
from portal.dashboard.selectors import stage_counts

PERIODS = {"7": 7, "30": 30, "90": 90, "all": None}


@permission_required_or_403("leads.view_dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "90")
    period = period if period in PERIODS else "90"
    days = PERIODS[period]
    since = timezone.now() - timedelta(days=days) if days else None
    counts = stage_counts(since=since)
    context = {
        "counts": counts,
        "total": sum(row["count"] for row in counts),
        "period": period,
        "periods": PERIODS,
    }
    return render(request, "dashboard/dashboard.html", context)
