import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from leads.capture.models import FormField
from leads.inbox.forms import RejectForm
from leads.inbox.selectors import inbox_for, leads_visible_to
from leads.inbox.services import lead_accept, lead_reject
from leads.lifecycle import can_move
from leads.models import Lead, Stage
from portal.accounts.decorators import permission_required_or_403

PAGE_SIZE = 25


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    stage = request.GET.get("stage", "")
    stage = stage if stage in Stage.values else ""
    search = request.GET.get("q", "").strip()[:200]
    leads = inbox_for(user=request.user, stage=stage, search=search)
    if request.GET.get("format") == "csv":
        return _csv(leads)
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "stage": stage, "search": search, "stages": Stage.choices}
    return render(request, "inbox/list.html", context)


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = get_object_or_404(leads_visible_to(user=request.user), pk=pk)
    qualification = lead.qualifications.select_related("agreement").first()
    context = {
        "lead": lead,
        "details": _labelled_attributes(lead),
        "qualification": qualification,
        "results": qualification.results.select_related("criterion") if qualification else [],
        "events": lead.events.select_related("actor"),
        "submissions": lead.submissions.select_related("form"),
        "can_work": _can_work(request.user, lead),
    }
    return render(request, "inbox/detail.html", context)


@permission_required_or_403("leads.work_lead")
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _own_lead(request, pk)
    if not can_move(lead.stage, Stage.ACCEPTED):
        return _already_moved(request, lead)
    lead_accept(lead=lead, by=request.user)
    messages.success(request, f"You accepted {lead}.")
    return redirect(lead)


@permission_required_or_403("leads.work_lead")
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _own_lead(request, pk)
    if not can_move(lead.stage, Stage.REJECTED):
        return _already_moved(request, lead)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lead_reject(
            lead=lead,
            by=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, f"You rejected {lead}; marketing sees your reason.")
        return redirect("inbox:list")
    status = 400 if request.method == "POST" else 200
    return render(request, "inbox/reject.html", {"lead": lead, "form": form}, status=status)


def _labelled_attributes(lead: Lead) -> list[tuple[str, object]]:
    """The lead's attributes in form order, under the labels of the forms that asked."""
    labels = dict(
        FormField.objects.filter(form__submissions__lead=lead)
        .order_by("position")
        .values_list("key", "label")
    )
    keys = [key for key in labels if key in lead.attributes]
    keys += sorted(key for key in lead.attributes if key not in labels)
    return [
        (labels.get(key, key.replace("_", " ").capitalize()), _shown(lead.attributes[key]))
        for key in keys
    ]


def _shown(value: object) -> object:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


def _can_work(user, lead: Lead) -> bool:
    return user.has_perm("leads.work_lead") and lead.owner_id == user.pk


def _own_lead(request: HttpRequest, pk: int) -> Lead:
    """Only the owner works a lead; to anyone else it does not exist (404, not 403)."""
    return get_object_or_404(Lead.objects.filter(owner=request.user), pk=pk)


def _already_moved(request: HttpRequest, lead: Lead) -> HttpResponse:
    messages.warning(
        request, f"{lead} is already {lead.get_stage_display().lower()}; nothing changed."
    )
    return redirect(lead)


def _csv(leads) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(["email", "name", "company", "stage", "score", "owner", "queue", "created_at"])
    for lead in leads.iterator(chunk_size=2000):
        writer.writerow(
            _cell(value)
            for value in [
                lead.email,
                lead.name,
                lead.company,
                lead.get_stage_display(),
                lead.score if lead.score is not None else "",
                lead.owner or "",
                lead.queue or "",
                timezone.localtime(lead.created_at).isoformat(),
            ]
        )
    return response


def _cell(value) -> str:
    """Lead data comes from the public: keep a spreadsheet from running it as a formula."""
    text = str(value)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
