import math

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from portal import broker
from portal.health.heartbeats import workers_state


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it starts its day on."""
    user = request.user
    if user.has_perm("leads.work_lead") and not user.has_perm("leads.view_all_leads"):
        return redirect("inbox:list")  # a rep starts on their own leads
    if user.has_perm("leads.view_dashboard"):
        return redirect("dashboard")
    if user.has_perm("leads.work_lead"):
        return redirect("inbox:list")
    return redirect("password_change")


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and container health checks: the database, the broker and the
    workers, apart.

    200 while the database answers, "degraded" when the broker does not (intake keeps
    storing, and the sweeper delivers once it is back) or when no worker took a task from
    the handoff or bulk queue within WORKER_SEEN_WITHIN_SECONDS; 503 when the database does
    not answer.
    """
    database = "ok" if _database_answers() else "down"
    if not broker.broker_configured():
        broker_state, workers = "not configured", "in process"
    else:
        broker_state = "ok" if broker.broker_answers() else "down"
        workers = _workers_state() if database == "ok" else "unknown"
    if database == "down":
        status = "down"
    elif broker_state == "down" or workers not in ("ok", "in process"):
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, "database": database, "broker": broker_state, "workers": workers},
        status=503 if status == "down" else 200,
    )


def _workers_state() -> str:
    try:
        return workers_state([settings.CELERY_HANDOFF_QUEUE, settings.CELERY_BULK_QUEUE])
    except DatabaseError:
        return "unknown"


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' AXES_LOCKOUT_CALLABLE: a username locked from this address, told for how
    long (429, Retry-After), instead of the login form."""
    seconds = math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": math.ceil(seconds / 60),
        "username": (credentials or {}).get("username") or request.POST.get("username", ""),
    }
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response
