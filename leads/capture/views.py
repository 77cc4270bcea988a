from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from leads.capture.forms import submission_form_class
from leads.capture.models import Form
from leads.capture.services import Provenance, lead_capture
from portal.accounts.decorators import permission_required_or_403
from portal.net import client_ip

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


# The public form takes posts from the hosted page and from snippets embedded on other
# sites, by anonymous visitors with no session to ride on: a CSRF token protects nothing
# here and would break every embed.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, slug: str) -> HttpResponse:
    form = get_object_or_404(Form.objects.filter(is_published=True), slug=slug)
    form_class = submission_form_class(form)
    if request.method == "GET":
        bound = form_class()
        status = 200
    else:
        bound = form_class(request.POST)
        if bound.is_valid():
            lead_capture(
                form=form,
                payload=_payload(request),
                cleaned=bound.cleaned_data,
                provenance=_provenance(request),
            )
            return redirect("capture:thanks", slug=form.slug)
        status = 400
    utm = {key: request.GET.get(key, request.POST.get(key, "")) for key in UTM_KEYS}
    context = {"form": form, "bound": bound, "utm": utm}
    return render(request, "capture/form.html", context, status=status)


def thanks(request: HttpRequest, slug: str) -> HttpResponse:
    form = get_object_or_404(Form.objects.filter(is_published=True), slug=slug)
    return render(request, "capture/thanks.html", {"form": form})


@permission_required_or_403("capture.view_form")
def form_list(request: HttpRequest) -> HttpResponse:
    forms = Form.objects.order_by("name").prefetch_related("fields")
    return render(request, "capture/form_list.html", {"forms": forms})


def _payload(request: HttpRequest) -> dict:
    return {
        key: values if len(values) > 1 else values[0]
        for key, values in request.POST.lists()
        if key != "csrfmiddlewaretoken"
    }


def _provenance(request: HttpRequest) -> Provenance:
    return request_provenance(
        request,
        page_url=request.POST.get("page_url") or request.headers.get("Referer", ""),
        utm=request.POST,
    )


def request_provenance(request: HttpRequest, *, page_url: str, utm: Mapping) -> Provenance:
    """Where a post came from, from the request and the caller's own page and UTM tags."""
    return Provenance(
        page_url=str(page_url)[:2000],
        utm={key: str(utm[key])[:200] for key in UTM_KEYS if utm.get(key)},
        idempotency_key=request.headers.get("Idempotency-Key", "")[:200],
        ip_address=client_ip(request),
        user_agent=request.headers.get("User-Agent", "")[:500],
    )
