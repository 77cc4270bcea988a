"""The agreement pages: everyone reads them; both managers draft, propose, sign and send back.

Every write is a POST that calls one service; a refusal from it (someone else proposed,
signed or sent it back meanwhile, one person on both sides) shows the version as it is now,
with the reason and the status the service gave (403 or 409), never a 500.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal.accounts.decorators import permission_required_or_403
from portal.errors import DomainError, PermissionDenied
from scoring import effectiveness, explain, forms, service_levels, whatif
from scoring.clocks import clocks_recount_latest
from scoring.flags import flags_by_criterion
from scoring.models import Agreement, Criterion, ProposedAgreementChange
from scoring.progress import RescoreRun
from scoring.rescore import rescore_latest
from scoring.selectors import (
    agreement_before,
    agreement_comments,
    agreement_criteria,
    agreement_overlaps,
    agreement_stale_base,
    agreement_version,
    agreement_versions,
    agreements_active,
    attribute_keys,
    forms_without_agreement,
    scope_active,
    scope_lines,
)
from scoring.services import (
    DRAFT,
    agreement_comment_add,
    agreement_draft_from,
    agreement_draft_new,
    agreement_forms_set,
    agreement_propose,
    agreement_rebase,
    agreement_send_back,
    agreement_sign,
    agreement_terms_set,
    criterion_move,
    criterion_remove,
    criterion_set,
    may_sign,
    sign_refusal,
)

Side = Agreement.Side


@dataclass(frozen=True)
class Signature:
    side: Agreement.Side
    by: object
    at: object


def signatures(agreement: Agreement) -> list[Signature]:
    return [
        Signature(
            side, getattr(agreement, f"{side}_signed_by"), getattr(agreement, f"{side}_signed_at")
        )
        for side in (Side.MARKETING, Side.SALES)
    ]


def sides_to_sign(agreement: Agreement, user) -> list[Agreement.Side]:
    """The sides this person may still sign this version for (the service has the last word)."""
    if agreement.status != "proposed":
        return []
    return [
        side
        for side in (Side.MARKETING, Side.SALES)
        if may_sign(user, side) and not agreement.signed_for(side)
    ]


@dataclass(frozen=True)
class ActiveLine:
    """One active version on the agreement page, with its scope and the forms it judges."""

    agreement: Agreement
    description: explain.Description
    signatures: list[Signature]
    forms: str

    @property
    def id_suffix(self) -> str:
        return f"-v{self.agreement.version}"


@login_required
def agreement_page(request: HttpRequest) -> HttpResponse:
    """Every active version (one per scope), then which judges which form, then all versions.

    The re-scoring and the criteria's effectiveness are those of the version activated last.
    """
    actives = [
        ActiveLine(
            agreement, _described(agreement), signatures(agreement), agreement.form_ids_words()
        )
        for agreement in agreements_active()
    ]
    newest = max((line.agreement for line in actives), key=lambda a: a.activated_at, default=None)
    context = {
        "actives": actives,
        "newest": newest,
        "versions": agreement_versions(),
        "may_draft": request.user.has_perm(DRAFT),
        "scopes": scope_lines(),
        "unjudged": forms_without_agreement(),
        "rescore": rescore_latest(agreement=newest) if newest else None,
        "clocks": clocks_recount_latest(),
        "effectiveness": (
            effectiveness.effectiveness(
                agreement=newest, **_period(request, effectiveness.DEFAULT_DAYS)
            )
            if newest
            else None
        ),
        "effectiveness_days": whatif.DAY_CHOICES,
        "period": _period_asked(request),
    }
    return render(request, "scoring/agreement.html", context)


@permission_required_or_403("scoring.view_agreement")
def flags_page(request: HttpRequest) -> HttpResponse:
    """The reps' "this should not have qualified", grouped by the criterion they point at."""
    days = _days(request, whatif.DAY_CHOICES, effectiveness.DEFAULT_DAYS)
    since = timezone.now() - timedelta(days=days)
    context = {"groups": flags_by_criterion(since=since), "days": days, "since": since}
    context["day_choices"] = whatif.DAY_CHOICES
    return render(request, "scoring/flags.html", context)


@login_required
def rescore_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """How far a bulk run is (a re-scoring, the clocks counted again), for its progress bar
    to poll."""
    run = get_object_or_404(RescoreRun.objects.select_related("agreement"), pk=pk)
    return JsonResponse(
        {
            "kind": run.kind,
            "version": run.agreement.version if run.agreement else None,
            "total": run.total,
            "done": run.done,
            "qualified": run.qualified,
            "percent": run.percent,
            "finished": run.finished_at is not None,
            "failed": bool(run.failure),
            "words": run.words,
            "resumed": run.resumed_words,
        }
    )


@login_required
def version_page(request: HttpRequest, version: int) -> HttpResponse:
    return _version_page(request, agreement_version(version=version))


def _version_page(
    request: HttpRequest,
    agreement: Agreement,
    *,
    status: int = 200,
    comment_form: forms.CommentForm | None = None,
):
    against = _compared_with(request, agreement)
    may_draft = request.user.has_perm(DRAFT)
    context = {
        "agreement": agreement,
        "description": _described(agreement),
        "signatures": signatures(agreement),
        "against": against,
        "changes": explain.diff(against.terms() if against else None, agreement.terms()),
        "others": agreement_versions().exclude(pk=agreement.pk),
        "comments": agreement_comments(agreement=agreement),
        "comment_form": (comment_form or forms.CommentForm()) if may_draft else None,
        "may_edit": may_draft and agreement.status == "draft",
        "may_send_back": may_draft and agreement.status == "proposed",
        "sides": sides_to_sign(agreement, request.user),
        **_whatif_context(request, agreement, may_draft),
    }
    return render(request, "scoring/version.html", context, status=status)


def _days(request: HttpRequest, choices, default: int) -> int:
    days = request.GET.get("days", "")
    return int(days) if days.isdigit() and int(days) in choices else default


def _period_asked(request: HttpRequest) -> dict[str, str]:
    """The period as asked, for the forms to show it again."""
    return {name: request.GET.get(name, "")[:10] for name in ("days", "start", "end")}


def _period(request: HttpRequest, default: int) -> dict:
    """The effectiveness' and the what-if's period: ?start=&end= (dates, the end included,
    either open) as far back as the history goes; else ?days=N of the choices, or
    ?days=all; else the last `default` days."""
    start, end = (_date(request.GET.get(name, "")) for name in ("start", "end"))
    if start or end:
        return {
            "days": None,
            "since": local_midnight(start) if start else None,
            "until": local_midnight(end + timedelta(days=1)) if end else None,
        }
    if request.GET.get("days") == "all":
        return {"days": None, "since": None, "until": None}
    return {"days": _days(request, whatif.DAY_CHOICES, default)}


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _whatif_context(request: HttpRequest, agreement: Agreement, may_draft: bool) -> dict:
    """A draft or proposal, to the two managers: the recent leads under it and the active one."""
    if not may_draft or agreement.status not in ("draft", "proposed"):
        return {}
    result = whatif.whatif(
        proposal=agreement,
        against=scope_active(scope_id=agreement.scope_id),  # the version it would replace
        **_period(request, whatif.DEFAULT_DAYS),
    )
    counts = [result.proposal] + ([result.against] if result.against else [])
    return {
        "whatif": result,
        "whatif_counts": counts,
        "whatif_days": whatif.DAY_CHOICES,
        "period": _period_asked(request),
    }


def _compared_with(request: HttpRequest, agreement: Agreement) -> Agreement | None:
    """?against=N compares with version N; by default, with the version before."""
    against = request.GET.get("against", "")
    if against.isdigit() and int(against) != agreement.version:
        found = agreement_versions().filter(version=int(against)).first()
        if found is not None:
            return found
    return agreement_before(agreement=agreement)


def _described(agreement: Agreement) -> explain.Description:
    return explain.describe(agreement.rules(), agreement.threshold)


def _refused(request: HttpRequest, agreement: Agreement, error: DomainError) -> HttpResponse:
    """Refused by the service: the version as it is now, saying why, with the status."""
    if isinstance(error, PermissionDenied):
        raise Forbidden(error.message) from error
    messages.error(request, error.message)
    return _version_page(request, agreement_version(version=agreement.version), status=error.status)


# Drafting


@require_POST
@permission_required_or_403(DRAFT)
def draft_new(request: HttpRequest) -> HttpResponse:
    form = forms.NewDraftForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That version is gone; choose another to start from.")
        return redirect("scoring:agreement")
    source = form.cleaned_data["source"]
    if source is None:
        try:
            draft = agreement_draft_new(by=request.user, scope_name=form.cleaned_data["scope_name"])
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("scoring:agreement")
        messages.success(
            request, f"{draft} is a new empty draft ({draft.scope}): add its criteria."
        )
    else:
        draft = agreement_draft_from(agreement=source, by=request.user)
        messages.success(request, f"{draft} is a new draft made from {source}: change it here.")
    return redirect("scoring:edit", version=draft.version)


@permission_required_or_403(DRAFT)
def edit(request: HttpRequest, version: int) -> HttpResponse:
    agreement = agreement_version(version=version)
    if agreement.is_proposed:
        if request.method == "POST":
            return _refused(request, agreement, _frozen(agreement))
        messages.warning(request, _frozen(agreement).message)
        return redirect(agreement)
    terms = forms.TermsForm.of(agreement, request.POST if request.method == "POST" else None)
    if request.method == "POST" and terms.is_valid():
        try:
            agreement_terms_set(agreement=agreement, by=request.user, **terms.cleaned_data)
        except DomainError as error:
            if error.field not in terms.fields:
                return _refused(request, agreement, error)
            terms.add_error(error.field, error.message)
        else:
            messages.success(request, f"The terms of {agreement} are saved.")
            return redirect("scoring:edit", version=version)
    status = 400 if terms.is_bound else 200
    return _editor(request, agreement, terms=terms, status=status)


def _editor(
    request, agreement, *, terms=None, criterion_form=None, forms_form=None, status=200
) -> HttpResponse:
    context = {
        "agreement": agreement,
        "terms": terms or forms.TermsForm.of(agreement),
        "criteria": [
            (criterion, f"{criterion.label}: {explain.clause(criterion.as_rule())}")
            for criterion in agreement_criteria(agreement=agreement)
        ],
        "criterion_form": criterion_form or forms.CriterionForm.of(None),
        "keys": sorted(attribute_keys()),
        "description": _described(agreement),
        "forms_form": forms_form or forms.FormsForm.of(agreement),
        "overlaps": agreement_overlaps(agreement=agreement),
        "unjudged": forms_without_agreement(),
        "stale_base": agreement_stale_base(agreement=agreement),
        "time_zones": service_levels.time_zone_choices(),
    }
    return render(request, "scoring/edit.html", context, status=status)


def _frozen(agreement: Agreement) -> DomainError:
    return ProposedAgreementChange(agreement)


@require_POST
@permission_required_or_403(DRAFT)
def forms_set(request: HttpRequest, version: int) -> HttpResponse:
    """The forms a draft judges (its scope); an overlap is told here, refused on proposing."""
    agreement = agreement_version(version=version)
    form = forms.FormsForm.of(agreement, request.POST)
    if form.is_valid():
        try:
            agreement_forms_set(agreement=agreement, by=request.user, **form.cleaned_data)
        except DomainError as error:
            if error.field not in form.fields:
                return _refused(request, agreement, error)
            form.add_error(error.field, error.message)
        else:
            messages.success(request, f"The forms {agreement} judges are saved.")
            return redirect(reverse("scoring:edit", kwargs={"version": version}) + "#scope")
    return _editor(request, agreement, forms_form=form, status=400)


@require_POST
@permission_required_or_403(DRAFT)
def rebase(request: HttpRequest, version: int) -> HttpResponse:
    """The draft now replaces the version active in its scope today."""
    agreement = agreement_version(version=version)
    try:
        rebased = agreement_rebase(agreement=agreement, by=request.user)
    except DomainError as error:
        return _refused(request, agreement, error)
    base = rebased.based_on or "no version (none is active)"
    messages.success(request, f"{rebased} now replaces {base}.")
    return redirect("scoring:edit", version=version)


@permission_required_or_403(DRAFT)
def criterion_add(request: HttpRequest, version: int) -> HttpResponse:
    return _criterion(request, agreement_version(version=version), None)


@permission_required_or_403(DRAFT)
def criterion_edit(request: HttpRequest, version: int, pk: int) -> HttpResponse:
    agreement = agreement_version(version=version)
    return _criterion(request, agreement, get_object_or_404(Criterion, pk=pk, agreement=agreement))


def _criterion(request, agreement: Agreement, criterion: Criterion | None) -> HttpResponse:
    if agreement.is_proposed:
        if request.method == "POST":
            return _refused(request, agreement, _frozen(agreement))
        messages.warning(request, _frozen(agreement).message)
        return redirect(agreement)
    form = forms.CriterionForm.of(criterion, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = criterion_set(
                agreement=agreement, by=request.user, criterion=criterion, **form.cleaned_data
            )
        except DomainError as error:
            if not set(error.errors) <= set(form.fields):
                return _refused(request, agreement, error)
            for field, problems in error.errors.items():
                for problem in problems:
                    form.add_error(field, problem["message"])
        else:
            done = "changed" if criterion else "added"
            messages.success(request, f"“{saved.label}” is {done}.")
            return redirect("scoring:edit", version=agreement.version)
    status = 400 if form.is_bound else 200
    if criterion is None:
        return _editor(request, agreement, criterion_form=form, status=status)
    context = {"agreement": agreement, "criterion": criterion, "form": form}
    context["keys"] = sorted(attribute_keys())
    return render(request, "scoring/criterion.html", context, status=status)


@require_POST
@permission_required_or_403(DRAFT)
def criterion_remove_view(request: HttpRequest, version: int, pk: int) -> HttpResponse:
    agreement = agreement_version(version=version)
    criterion = get_object_or_404(Criterion, pk=pk, agreement=agreement)
    try:
        criterion_remove(criterion=criterion, by=request.user)
    except DomainError as error:
        return _refused(request, agreement, error)
    messages.success(request, f"“{criterion.label}” is removed.")
    return redirect("scoring:edit", version=version)


@require_POST
@permission_required_or_403(DRAFT)
def criterion_move_view(request: HttpRequest, version: int, pk: int, offset: int) -> HttpResponse:
    agreement = agreement_version(version=version)
    criterion = get_object_or_404(Criterion, pk=pk, agreement=agreement)
    try:
        criterion_move(criterion=criterion, by=request.user, offset=offset)
    except DomainError as error:
        return _refused(request, agreement, error)
    return redirect(reverse("scoring:edit", kwargs={"version": version}) + "#criteria")


@require_POST
@permission_required_or_403(DRAFT)
def comment(request: HttpRequest, version: int) -> HttpResponse:
    agreement = agreement_version(version=version)
    form = forms.CommentForm(request.POST)
    if form.is_valid():
        try:
            agreement_comment_add(agreement=agreement, by=request.user, **form.cleaned_data)
        except DomainError as error:
            if error.field not in form.fields:
                return _refused(request, agreement, error)
            form.add_error(error.field, error.message)
        else:
            messages.success(request, "Your comment is on the version's page.")
            return redirect(reverse("scoring:version", kwargs={"version": version}) + "#comments")
    return _version_page(request, agreement, status=400, comment_form=form)


# The lifecycle: each a confirmation page (GET) and the move itself (POST)


@permission_required_or_403(DRAFT)
def propose(request: HttpRequest, version: int) -> HttpResponse:
    agreement = agreement_version(version=version)
    if request.method == "POST":
        try:
            agreement_propose(agreement=agreement, by=request.user)
        except DomainError as error:
            return _refused(request, agreement, error)
        messages.success(
            request, f"{agreement} is proposed: it no longer changes, and both managers sign it."
        )
        return redirect(agreement)
    if agreement.is_proposed:
        messages.warning(request, f"{agreement} is already {agreement.status}.")
        return redirect(agreement)
    return _confirm(
        request,
        agreement,
        question=f"Propose {agreement}?",
        explanation=(
            "Once proposed it is frozen: nobody can change it, and a marketing manager and a "
            "sales manager sign exactly this text. Either manager can send it back to draft."
        ),
        submit="Propose it",
        url=reverse("scoring:propose", kwargs={"version": version}),
    )


@login_required
def sign(request: HttpRequest, version: int, side: str) -> HttpResponse:
    agreement = agreement_version(version=version)
    refusal = sign_refusal(agreement=agreement, by=request.user, side=side)
    if refusal is not None:
        return _refused(request, agreement, refusal)
    label = Side(side).label.lower()
    if request.method == "POST":
        try:
            signed = agreement_sign(agreement=agreement, by=request.user, side=side)
        except DomainError as error:
            return _refused(request, agreement, error)
        if signed.activated_at:
            text = f"You signed {signed} for {label}. Both sides have signed: it is active now."
        else:
            text = f"You signed {signed} for {label}; it is active once the other side signs."
        messages.success(request, text)
        return redirect(signed)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    if Side(side) not in sides_to_sign(agreement, request.user):
        messages.warning(request, f"{agreement} is {agreement.status}: there is nothing to sign.")
        return redirect(agreement)
    return _confirm(
        request,
        agreement,
        question=f"Sign {agreement} for {label}?",
        explanation=(
            "You sign exactly the text shown here. Once both sides have signed, it judges "
            "every new lead, and the version active now is retired."
        ),
        submit=f"Sign for {label}",
        url=reverse("scoring:sign", kwargs={"version": version, "side": side}),
    )


@permission_required_or_403(DRAFT)
def send_back(request: HttpRequest, version: int) -> HttpResponse:
    agreement = agreement_version(version=version)
    form = forms.SendBackForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement_send_back(agreement=agreement, by=request.user, **form.cleaned_data)
        except DomainError as error:
            if error.field not in form.fields:
                return _refused(request, agreement, error)
            form.add_error(error.field, error.message)
        else:
            messages.success(request, f"{agreement} is a draft again; its signatures are cleared.")
            return redirect(agreement)
    elif request.method == "GET" and agreement.status != "proposed":
        messages.warning(request, f"{agreement} is {agreement.status}: only a proposal goes back.")
        return redirect(agreement)
    return _confirm(
        request,
        agreement,
        question=f"Send {agreement} back to draft?",
        explanation=(
            "It can be changed again, and any signature already given is cleared: a signature "
            "belongs to the exact text it was given on. Your comment is kept on its page."
        ),
        submit="Send back to draft",
        url=reverse("scoring:send_back", kwargs={"version": version}),
        form=form,
        style="warning",
        status=400 if form.is_bound else 200,
    )


def _confirm(
    request,
    agreement,
    *,
    question,
    explanation,
    submit,
    url,
    form=None,
    style="primary",
    status=200,
):
    context = {
        "agreement": agreement,
        "question": question,
        "explanation": explanation,
        "submit": submit,
        "url": url,
        "form": form,
        "style": style,
        "description": _described(agreement),
        "signatures": signatures(agreement),
    }
    return render(request, "scoring/confirm.html", context, status=status)
