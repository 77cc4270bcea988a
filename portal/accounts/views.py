from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each role to the page it starts its day on."""
    user = request.user
    if user.has_perm("leads.view_dashboard"):
        return redirect("dashboard")
    if user.has_perm("leads.work_lead"):
        return redirect("inbox:list")
    return redirect("password_change")
