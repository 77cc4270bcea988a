"""The sales manager's queues: the list, a new queue, and a queue's settings and reps."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from leads.models import Lead
from leads.routing import strategies
from leads.routing.forms import (
    AbsenceForm,
    AvailabilityForm,
    QueueForm,
    SimulateForm,
    WhatIfForm,
)
from leads.routing.models import Absence, Queue, QueueMember
from leads.routing.selectors import (
    active_reps,
    catch_all_exists,
    fairness,
    open_leads_by_rep,
    pool_leads,
    pools,
    received_today,
    reps_now,
    unrouted_count,
)
from leads.routing.services import (
    CLOCK_SETTINGS,
    absence_add,
    absence_remove,
    availability_of,
    availability_save,
    may_set_availability,
    queue_save,
)
from leads.routing.simulator import lead_attributes, simulate, what_if
from portal.accounts.decorators import permission_required_or_403
from portal.spreadsheets import SafeWriter


@permission_required_or_403("routing.view_queue")
def queue_list(request: HttpRequest) -> HttpResponse:
    members = QueueMember.objects.select_related("rep").order_by("position")
    queues = Queue.objects.prefetch_related(Prefetch("members", queryset=members))
    # Members routing passes over (an account deactivated, a role that no longer works leads).
    routable = set(active_reps().values_list("pk", flat=True))
    load, waiting = open_leads_by_rep(), pools(now=timezone.now())
    queues = list(queues)
    for queue in queues:
        queue.pool = waiting.get(queue.pk)
        for member in queue.members.all():
            member.load = load.get(member.rep_id, 0)
    context = {
        "queues": queues,
        "routable": routable,
        "catch_all": catch_all_exists(),
        "unmatched": unrouted_count(),
    }
    return render(request, "routing/queue_list.html", context)


@permission_required_or_403("routing.add_queue")
def queue_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, Queue(), title="New queue")


@permission_required_or_403("routing.change_queue")
def queue_edit(request: HttpRequest, pk: int) -> HttpResponse:
    queue = get_object_or_404(Queue, pk=pk)
    return _edit(request, queue, title=f"Queue: {queue.name}")


def _edit(request: HttpRequest, queue: Queue, *, title: str) -> HttpResponse:
    bound, existed = QueueForm(request.POST or None, instance=queue), queue.pk is not None
    if request.method == "POST" and bound.is_valid():
        queue = queue_save(
            queue=bound.save(commit=False),
            reps=bound.cleaned_data["members"],
            weights=bound.weights(),
            caps=bound.member_caps(),
        )
        messages.success(request, f"Saved the queue {queue.name}.")
        if existed and set(bound.changed_data) & set(CLOCK_SETTINGS):
            messages.info(
                request,
                format_html(
                    'The due times of its open leads are being counted again: <a href="{}">'
                    "see the progress</a>.",
                    reverse("scoring:agreement") + "#clocks",
                ),
            )
        return redirect("routing:queue_list")
    listed = reverse("routing:queue_list")
    # Each rep's load beside their caps: open leads now, leads from this queue today.
    held = open_leads_by_rep()
    today = received_today([queue.pk], now=timezone.now()) if queue.pk else {}
    members = bound.member_rows()
    for row in members:
        row["open"] = held.get(row["rep"].pk, 0)
        row["today"] = today.get((queue.pk, row["rep"].pk), 0)
    context = {"bound": bound, "members": members, "title": title, "back": listed}
    status = 400 if bound.is_bound and bound.errors else 200
    return render(request, "routing/queue_edit.html", context, status=status)


# Availability ---------------------------------------------------------------------------


@permission_required_or_403("leads.work_lead")
def my_availability(request: HttpRequest) -> HttpResponse:
    return _availability(request, request.user, back=reverse("inbox:list"), mine=True)


@permission_required_or_403("routing.change_queue")
def rep_availability(request: HttpRequest, pk: int) -> HttpResponse:
    rep = get_object_or_404(active_reps(), pk=pk)
    return _availability(request, rep, back=reverse("routing:rep_list"), mine=False)


def _availability(request: HttpRequest, rep, *, back: str, mine: bool) -> HttpResponse:
    availability = availability_of(rep)
    saving = request.method == "POST" and "absence" not in request.POST
    adding = request.method == "POST" and "absence" in request.POST
    bound = AvailabilityForm(request.POST if saving else None, instance=availability)
    away = AbsenceForm(request.POST if adding else None, instance=Absence(rep=rep))
    if saving and bound.is_valid():
        availability_save(availability=bound.save(commit=False), by=request.user)
        messages.success(request, "Saved: every queue reads it from now on.")
        return redirect(request.path)
    if adding and away.is_valid():
        absence_add(absence=away.save(commit=False), by=request.user)
        messages.success(request, "Added the days away.")
        return redirect(request.path)
    name = rep.get_full_name() or rep.username
    context = {
        "rep": rep,
        "bound": bound,
        "away": away,
        "absences": Absence.objects.filter(rep=rep, last_day__gte=timezone.localdate()),
        "title": "My availability" if mine else f"Availability: {name}",
        "back": back,
        "mine": mine,
    }
    status = 400 if (bound.is_bound and bound.errors) or (away.is_bound and away.errors) else 200
    return render(request, "routing/availability.html", context, status=status)


@permission_required_or_403("leads.work_lead")
def absence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    absence = get_object_or_404(Absence.objects.select_related("rep"), pk=pk)
    if not may_set_availability(user=request.user, rep=absence.rep):
        raise Http404("No such absence.")
    mine = absence.rep_id == request.user.pk
    back = (
        reverse("routing:my_availability")
        if mine
        else reverse("routing:rep_availability", args=[absence.rep_id])
    )
    if request.method == "POST":
        absence_remove(absence=absence, by=request.user)
        messages.success(request, "Removed the days away.")
        return redirect(back)
    return render(request, "routing/absence_delete.html", {"absence": absence, "back": back})


@permission_required_or_403("routing.view_queue")
def rep_list(request: HttpRequest) -> HttpResponse:
    """Every rep: available now or why not, open leads held, leads received this week."""
    return render(request, "routing/rep_list.html", {"reps": reps_now(now=timezone.now())})


@permission_required_or_403("routing.view_queue")
def queue_pool(request: HttpRequest, pk: int) -> HttpResponse:
    """The leads a queue took that no rep could: waiting, longest first, with their age."""
    queue = get_object_or_404(Queue, pk=pk)
    page = Paginator(pool_leads(queue=queue), 50).get_page(request.GET.get("page"))
    return render(request, "routing/queue_pool.html", {"queue": queue, "page": page})


FAIRNESS_PERIODS = {
    1: "today",
    7: "the last 7 days",
    30: "the last 30 days",
    90: "the last 90 days",
}


@permission_required_or_403("routing.view_queue")
def queue_fairness(request: HttpRequest, pk: int) -> HttpResponse:
    """Expected against actual share of a queue's leads over a period, and each rep's load."""
    queue = get_object_or_404(Queue, pk=pk)
    try:
        days = int(request.GET.get("days", 7))
    except ValueError:
        days = 7
    days = days if days in FAIRNESS_PERIODS else 7
    now = timezone.now()
    since = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    since -= timedelta(days=days - 1)
    rows, total = fairness(queue=queue, since=since, now=now)
    table = [
        {
            "name": row.rep.get_full_name() or row.rep.username,
            "member": row.member,
            "weight": row.weight,
            "expected": round(row.expected * 100, 1),
            "actual": round(row.actual(total) * 100, 1),
            "received": row.received,
            "credited": row.credited,
            "open": row.open_leads,
            "credits": row.credits,
            "now": strategies.WHY_WORDS.get(row.unavailable or "", "available"),
        }
        for row in rows
    ]
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="queue-{pk}-fairness.csv"'
        writer = SafeWriter(response)
        writer.writerow(list(table[0]) if table else ["name"])
        writer.writerows(row.values() for row in table)
        return response
    context = {
        "queue": queue,
        "rows": table,
        "total": total,
        "days": days,
        "periods": FAIRNESS_PERIODS,
        "since": since,
    }
    return render(request, "routing/queue_fairness.html", context)


@permission_required_or_403("routing.view_queue")
def simulator(request: HttpRequest) -> HttpResponse:
    """Try a lead, or typed attributes, against the queues as they are; and a proposed queue
    edit against the last period's leads. Reads only (GET): nothing changes."""
    context: dict = {"queues": Queue.objects.all()}
    trying = "lead" in request.GET or "attributes" in request.GET
    try_form = SimulateForm(request.GET if trying else None)
    if trying and try_form.is_valid():
        attributes = try_form.cleaned_data["attributes"]
        lead_id = try_form.cleaned_data["lead"]
        if lead_id:
            lead = Lead.objects.filter(pk=lead_id).first()
            if lead is None:
                try_form.add_error("lead", f"No lead number {lead_id}.")
            else:
                attributes = {**lead_attributes(lead), **attributes}
                context["lead"] = lead
        if not try_form.errors:
            context["attributes"] = attributes
            context["outcome"] = simulate(attributes)
    context["try_form"] = try_form
    chosen = Queue.objects.filter(pk=_int(request.GET.get("w-queue"))).first()
    if "w-days" in request.GET:
        what_form = WhatIfForm(request.GET, prefix="w")
        if what_form.is_valid():
            since = timezone.now() - timedelta(days=what_form.cleaned_data["days"])
            context["what_if"] = what_if(
                queue=what_form.cleaned_data["queue"], proposed=what_form.proposed(), since=since
            )
    else:
        what_form = WhatIfForm(prefix="w", queue=chosen)
    context["what_form"] = what_form
    bad = (try_form.is_bound and try_form.errors) or (what_form.is_bound and what_form.errors)
    return render(request, "routing/simulator.html", context, status=400 if bad else 200)


def _int(value) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
