"""The bell's pages: a user's own notifications and how they arrive. Nobody sees another's."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal.notifications.forms import PreferencesForm
from portal.notifications.models import Kind
from portal.notifications.selectors import notifications_for, preferences_for
from portal.notifications.services import (
    notification_read,
    notifications_read_all,
    preferences_set,
)

PAGE_SIZE = 25


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    mine = notifications_for(user=request.user, unread_only=unread_only)
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "chosen": "unread" if unread_only else ""},
    )


@login_required
@require_POST
def notification_mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification_read(user=request.user, notification_id=pk)
    return _back(request)


@login_required
@require_POST
def notification_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = notifications_read_all(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    """To the page the button was on (the list, with its page), or to the list."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    current = preferences_for(user=request.user)
    form = PreferencesForm(request.POST or None, initial_choices=current)
    if request.method == "POST" and form.is_valid():
        preferences_set(
            user=request.user, choices={kind: form.cleaned_data[kind] for kind in Kind.values}
        )
        messages.success(request, "Your notification preferences are saved.")
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
