"""The spam quarantine in the portal: marketing reviews held posts, releases or discards them.

Reps never see it (the permissions are marketing's: accounts' roles, capture 0007).
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from leads.capture.intake.quarantine import quarantine_discard, quarantine_release
from leads.capture.models import Form, QuarantinedPost
from leads.capture.selectors import quarantined_posts
from portal.accounts.decorators import permission_required_or_403
from portal.errors import Conflict, DomainError

PAGE_SIZE = 20
VIEW = "capture.view_quarantinedpost"
DECIDE = "capture.change_quarantinedpost"


@permission_required_or_403(VIEW)
def quarantine_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    reason = request.GET.get("reason", "")
    if reason not in QuarantinedPost.Reason.values:
        reason = ""
    status = request.GET.get("status", QuarantinedPost.Status.HELD)
    if status not in QuarantinedPost.Status.values:
        status = ""
    forms = list(Form.objects.filter(quarantined_posts__isnull=False).distinct().order_by("name"))
    form_id = _int(request.GET.get("form"))
    if form_id not in {form.pk for form in forms}:
        form_id = None
    posts = quarantined_posts(search=search, form_id=form_id, reason=reason, status=status)
    page = Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "reason": reason,
        "status": status,
        "form_id": form_id,
        "forms": forms,
        "reasons": QuarantinedPost.Reason.choices,
        "statuses": QuarantinedPost.Status.choices,
        "filtered": bool(search or reason or form_id or status != QuarantinedPost.Status.HELD),
    }
    return render(request, "capture/quarantine_list.html", context)


@permission_required_or_403(VIEW)
def quarantine_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _post(pk))


@permission_required_or_403(DECIDE)
@require_POST
def quarantine_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(pk)
    why = request.POST.get("why", "")
    try:
        submission = quarantine_release(post=post, by=request.user, why=why)
    except Conflict as error:
        messages.error(request, error.message)
        return redirect("capture:quarantine_post", pk=post.pk)
    except DomainError as error:
        return _detail_page(request, post, error=error, why=why, status=error.status)
    messages.success(
        request,
        f"Released the post from {post.email or 'an unknown sender'}: it is now a submission "
        f"of {post.form} and its lead is handed off as usual.",
    )
    if request.user.has_perm("leads.view_all_leads"):
        return redirect(submission.lead.get_absolute_url())
    return redirect("capture:quarantine_list")


@permission_required_or_403(DECIDE)
def quarantine_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    post = _post(pk)
    if request.method == "POST":
        try:
            quarantine_discard(post=post, by=request.user, why=request.POST.get("why", ""))
        except Conflict as error:
            messages.error(request, error.message)
            return redirect("capture:quarantine_post", pk=post.pk)
        messages.success(request, f"Discarded the post from {post.email or 'an unknown sender'}.")
        return redirect("capture:quarantine_list")
    if post.status != QuarantinedPost.Status.HELD:
        messages.error(request, "This post is no longer held; there is nothing to discard.")
        return redirect("capture:quarantine_post", pk=post.pk)
    return render(request, "capture/quarantine_discard.html", {"post": post})


def _post(pk: int) -> QuarantinedPost:
    return get_object_or_404(
        QuarantinedPost.objects.select_related("form", "form_version", "decided_by"), pk=pk
    )


def _detail_page(
    request: HttpRequest,
    post: QuarantinedPost,
    *,
    error: DomainError | None = None,
    why: str = "",
    status: int = 200,
) -> HttpResponse:
    labels = post.form_version.labels
    # In the form's order (jsonb keeps keys in its own order), then what the form did not ask.
    order = [name for name in labels if name in post.payload]
    order += [name for name in post.payload if name not in labels]
    values = [(labels.get(name, name), post.payload[name]) for name in order]
    context = {
        "post": post,
        "values": values,
        "findings": list(zip(post.reason_labels, post.details, strict=False)),
        "error": error,
        "why": why,
    }
    return render(request, "capture/quarantine_detail.html", context, status=status)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
