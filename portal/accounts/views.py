from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it starts its day on."""
    user = request.user
    if user.has_perm("leads.view_dashboard"):
        return redirect("dashboard")
    if user.has_perm("leads.work_lead"):
        return redirect("inbox:list")
    return redirect("password_change")


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and container health checks: 200 only when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
