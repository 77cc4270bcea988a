from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from leads.capture.imports.exports import EXPORT, csv_response
from leads.capture.intake.views import UTM_KEYS
from leads.capture.models import Form
from leads.capture.selectors import (
    attribute_labels,
    export_field_keys,
    lead_field_problems,
    lead_origin,
    submission_answers,
)
from leads.inbox import forms
from leads.inbox.actions import ACTIONS, LeadAction, lead_actions
from leads.inbox.selectors import (
    InboxFilters,
    inbox,
    inbox_rows,
    lead_timeline,
    leads_for_export,
    leads_visible_to,
    unseen_repeats,
)
from leads.inbox.services import lead_repeats_seen
from leads.lifecycle import moves_from
from leads.models import Lead, Stage
from portal.accounts.decorators import permission_required_or_403
from portal.countries import country_attributes, country_name
from portal.errors import DomainError, PermissionDenied
from portal.spreadsheets import unique_header
from scoring.selectors import agreement_judging, lead_due_times

PAGE_SIZE = 25


class CappedPaginator(Paginator):
    """Pages through the leads the inbox counted (at most its cap), never counting them again:
    a list past the cap shows its first `cap` leads and asks for a filter."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self.capped_count = count

    @cached_property
    def count(self) -> int:
        return self.capped_count


@dataclass
class Panel:
    """An action as the lead page draws it."""

    action: LeadAction
    form: forms.LeadForm
    url: str
    submit: str
    open: bool = False  # a form sent back with errors is shown unfolded

    @property
    def confirm(self) -> bool:
        return bool(ACTIONS[self.action.name].ask)

    @property
    def inline(self) -> bool:
        """Asked in place on the lead page; the others are a button or a page of their own."""
        return bool(self.form.fields) and not self.confirm


def _filters(request: HttpRequest) -> tuple[str, str]:
    stage = request.GET.get("stage", "")
    return (stage if stage in Stage.values else ""), request.GET.get("q", "").strip()[:200]


@dataclass(frozen=True)
class RowMove:
    """A move a row of the list offers (a row of ACTIONS with a key)."""

    name: str
    label: str
    key: str
    style: str
    url: str
    confirm: bool  # a link to its confirmation page; else a button that posts


def _row_moves(lead: Lead, user) -> list[RowMove]:
    moves = []
    for move in ACTIONS.values():
        offer = move.offered(lead=lead, user=user) if move.key else None
        if offer is not None:
            url = reverse(f"inbox:{move.name}", kwargs={"pk": lead.pk})
            label = f"{offer.label}…" if move.ask else offer.label
            moves.append(RowMove(move.name, label, move.key, offer.style, url, bool(move.ask)))
    return moves


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    """The inbox: a tab of leads, "Needs action" first, by due time. Asked by htmx (polling),
    only the tabs and the rows are sent, with the page's title."""
    filters = InboxFilters.read(request.GET)
    now = timezone.now()
    box = inbox(user=request.user, filters=filters, now=now)
    listed = min(box.listed, box.cap)
    page = CappedPaginator(box.leads, PAGE_SIZE, count=listed).get_page(request.GET.get("page"))
    rows = inbox_rows(leads=list(page.object_list), now=now)
    context = {
        "inbox": box,
        "filters": filters,
        "page": page,
        "rows": [(row, _row_moves(row.lead, request.user)) for row in rows],
        "query": _query(filters),
        "poll_seconds": settings.INBOX_POLL_SECONDS,
        "page_width": "container-xxl",  # base.html: a table of many columns
        # The old single-filter names, for the export link.
        "stage": filters.stage,
        "search": filters.search,
    }
    template = "inbox/_results.html" if request.htmx else "inbox/list.html"
    return render(request, template, context)


def _query(filters: InboxFilters) -> str:
    """The filters as a query string (without the page), for links that keep them."""
    params = {
        "tab": filters.tab,
        "stage": filters.stage,
        "queue": filters.queue or "",
        "form": filters.form or "",
        "due": filters.due,
        "owner": filters.owner or "",
        "q": filters.search,
    }
    return urlencode({key: value for key, value in params.items() if value})


@permission_required_or_403(EXPORT)
def lead_export(request: HttpRequest) -> HttpResponse:
    """The leads the list shows with the same filters, as CSV, streamed."""
    stage, search = _filters(request)
    columns = {"email", "first_name", "last_name", "company"}  # the lead's own columns
    keys = [key for key in export_field_keys(forms=Form.objects.all()) if key not in columns]
    # A form field keyed like a column of ours (`stage`, `score`...) is "stage (form field)".
    header = unique_header(
        [
            "lead_id",
            "email",
            "first_name",
            "last_name",
            "company",
            "stage",
            "score",
            "source_form",
            "campaign",
            "owner",
            "queue",
            *UTM_KEYS,
            "first_page_url",
            "created_at",
            "stage_changed_at",
            "first_action_at",
            "updated_at",
        ],
        keys,
        qualifier="form field",
        last=["other_attributes"],
    )
    leads = leads_for_export(user=request.user, stage=stage, search=search)
    rows = (_lead_row(lead, keys) for lead in leads.iterator(chunk_size=2000))
    return csv_response("leads", header, rows)


def _lead_row(lead: Lead, keys: list[str]) -> list:
    utm = lead.first_utm or {}
    known = {*keys, "email", "first_name", "last_name", "company"}
    return [
        lead.pk,
        lead.email,
        lead.first_name,
        lead.last_name,
        lead.company,
        lead.stage,
        lead.score,
        lead.source_form.name,
        lead.campaign,
        lead.owner.username if lead.owner else "",
        lead.queue.name if lead.queue else "",
        *(utm.get(key, "") for key in UTM_KEYS),
        lead.first_page_url or "",
        lead.created_at,
        lead.stage_changed_at,
        lead.first_action_at,
        lead.updated_at,
        *(lead.attributes.get(key, "") for key in keys),
        {key: value for key, value in lead.attributes.items() if key not in known} or "",
    ]


@login_required
@require_POST
def repeats_seen(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner has seen that the lead submitted again: the notice and the marker go."""
    lead = _visible_lead(request, pk)
    try:
        seen = lead_repeats_seen(lead=lead, by=request.user)
    except PermissionDenied as denied:
        raise Forbidden(denied.message) from denied
    if seen:
        messages.success(request, "Marked as seen.")
    return redirect(lead)


@login_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _lead_page(request, _visible_lead(request, pk))


@login_required
def lead_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One move on one lead. GET shows the confirmation page of a final or destructive move;
    POST takes it. Not in one's role: 403. Not visible: 404. Not the person to do it: 403. The
    lead has moved on: 409 on the lead page, with what happened."""
    move = ACTIONS[name]
    if not any(request.user.has_perm(perm) for perm in move.perms):
        raise Forbidden(f"{request.user}'s role does not include this.")
    lead = _visible_lead(request, pk)
    if not move.may(user=request.user, lead=lead):
        raise Forbidden(f"{request.user} may not do this to {lead}.")
    action = move.offered(lead=lead, user=request.user)
    if request.method == "POST":
        return _take(request, lead, name, action)
    if request.method != "GET" or not move.ask:
        return HttpResponseNotAllowed(["POST"])
    if action is None:
        messages.warning(request, move.refusal(lead).message)
        return redirect(lead)
    return _confirm_page(request, lead, _panel(lead, action))


def _take(request: HttpRequest, lead: Lead, name: str, action: LeadAction | None):
    move = ACTIONS[name]
    if action is None:
        return _refused(request, lead, move.refusal(lead))
    form = move.form(request.POST, prefix=name, lead=lead)
    if form.is_valid():
        try:
            move.do(lead=lead, by=request.user, **form.cleaned_data)
        except PermissionDenied as denied:
            raise Forbidden(denied.message) from denied
        except DomainError as error:
            if error.field not in form.fields:
                return _refused(request, lead, error)
            form.add_error(error.field, error.message)
        else:
            messages.success(request, move.done(lead, form.cleaned_data))
            back = request.POST.get("next", "")
            if back and url_has_allowed_host_and_scheme(
                back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(back)  # taken from the inbox list: back to it, filters kept
            return redirect("inbox:list") if move.then == "list" else redirect(lead)
    panel = _panel(lead, action, form=form)
    if panel.confirm:
        return _confirm_page(request, lead, panel, status=400)
    return _lead_page(request, lead, bound=panel, status=400)


def _refused(request: HttpRequest, lead: Lead, error: DomainError) -> HttpResponse:
    """The move was refused (the lead moved on meanwhile): say so on the lead as it is now."""
    messages.error(request, error.message)
    lead = leads_visible_to(user=request.user).filter(pk=lead.pk).first()
    if lead is None:
        raise Http404("The lead is no longer yours to see.")
    return _lead_page(request, lead, status=error.status)


def _lead_page(
    request: HttpRequest, lead: Lead, *, bound: Panel | None = None, status: int = 200
) -> HttpResponse:
    panels = [
        bound if bound and bound.action.name == action.name else _panel(lead, action)
        for action in lead_actions(lead=lead, user=request.user)
    ]
    moves = [panel for panel in panels if panel.action.name != "note"]
    qualification = lead.qualifications.current().select_related("agreement").first()
    earlier = lead.qualifications.superseded().select_related("agreement")
    judge = qualification.agreement if qualification else None
    # The clock counts the service levels of the version judging the form now (leads/clock.py).
    judging = agreement_judging(form_id=lead.source_form_id)
    context = {
        "lead": lead,
        "details": _labelled_attributes(lead),
        "problems": lead_field_problems(lead=lead),
        "qualification": qualification,
        "due_times": lead_due_times(lead=lead, agreement=judging or judge),
        "unjudged": not qualification and not judging,
        "results": qualification.results.select_related("criterion") if qualification else [],
        "earlier": earlier.prefetch_related("results__criterion"),
        "timeline": lead_timeline(lead=lead),
        "submissions": [
            (submission, submission_answers(submission=submission))
            for submission in lead.submissions.select_related("form", "form_version")
        ],
        "moves": moves,
        "buttons": [panel for panel in moves if not panel.inline],
        "forms": [panel for panel in moves if panel.inline],
        "note": next((panel for panel in panels if panel.action.name == "note"), None),
        "nurture_until": lead.nurture_until if lead.stage == Stage.RECYCLED else None,
        "origin": lead_origin(lead=lead),
        "repeats": unseen_repeats(lead=lead, user=request.user),
        "final": not moves_from(lead.stage),
    }
    return render(request, "inbox/detail.html", context, status=status)


def _confirm_page(
    request: HttpRequest, lead: Lead, panel: Panel, *, status: int = 200
) -> HttpResponse:
    context = {
        "lead": lead,
        "panel": panel,
        "question": ACTIONS[panel.action.name].ask.format(lead=lead.name or str(lead)),
        "final": not moves_from(panel.action.to),
    }
    return render(request, "inbox/confirm.html", context, status=status)


def _panel(lead: Lead, action: LeadAction, *, form: forms.LeadForm | None = None) -> Panel:
    move = ACTIONS[action.name]
    return Panel(
        action=action,
        form=form or move.form(prefix=action.name, lead=lead),
        url=reverse(f"inbox:{action.name}", kwargs={"pk": lead.pk}),
        submit=move.submit or action.label,
        open=form is not None,
    )


def _visible_lead(request: HttpRequest, pk: int) -> Lead:
    """A lead the user may not see does not exist for them (404, not 403)."""
    return get_object_or_404(leads_visible_to(user=request.user), pk=pk)


def _labelled_attributes(lead: Lead) -> list[tuple[str, object]]:
    """The lead's attributes in form order, under the labels of the forms that asked."""
    labels = attribute_labels(lead=lead)
    keys = [key for key in labels if key in lead.attributes]
    keys += sorted(key for key in lead.attributes if key not in labels)
    countries = country_attributes()
    return [
        (
            labels.get(key, key.replace("_", " ").capitalize()),
            country_name(lead.attributes[key])
            if key in countries
            else _shown(lead.attributes[key]),
        )
        for key in keys
    ]


def _shown(value: object) -> object:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return value
