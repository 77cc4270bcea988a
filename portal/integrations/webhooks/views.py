"""The managers' webhook pages: endpoints, their test button, and their deliveries' log.

Both sides' managers (and an admin) hold the permissions (migration 0002); marketers and reps
see none of it: an endpoint carries every lead's details out, and its page shows its secret.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal.accounts.decorators import permission_required_or_403
from portal.errors import DomainError
from portal.integrations.webhooks.event_types import EVENT_TYPES
from portal.integrations.webhooks.forms import EndpointForm
from portal.integrations.webhooks.models import Delivery, Endpoint
from portal.integrations.webhooks.selectors import deliveries_for
from portal.integrations.webhooks.selectors import endpoint_list as listed
from portal.integrations.webhooks.services import (
    delivery_redeliver,
    endpoint_create,
    endpoint_disable,
    endpoint_enable,
    endpoint_secret_rotate,
    endpoint_test,
    endpoint_update,
)
from portal.pages import edit_page
from portal.spreadsheets import SafeWriter

PAGE_SIZE = 25
VIEW, ADD, CHANGE = "webhooks.view_endpoint", "webhooks.add_endpoint", "webhooks.change_endpoint"


@permission_required_or_403(VIEW)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(listed(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "webhooks/list.html", {"page": page, "event_types": EVENT_TYPES})


@permission_required_or_403(ADD)
def endpoint_new(request: HttpRequest) -> HttpResponse:
    bound = EndpointForm(request.POST or None)
    if request.method == "POST" and bound.is_valid():
        try:
            endpoint = endpoint_create(**bound.cleaned_data, by=request.user)
        except DomainError as error:
            bound.add_error(error.field if error.field in bound.fields else None, error.message)
        else:
            messages.success(
                request,
                f"Added {endpoint.name}. Its signing secret is below: give it to the receiver.",
            )
            return redirect("webhooks:endpoint", pk=endpoint.pk)
    back = reverse("webhooks:list")
    return edit_page(
        request, bound, title="New endpoint", back=back, parent_url=back, parent_label="Webhooks"
    )


@permission_required_or_403(CHANGE)
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    initial = {"name": endpoint.name, "url": endpoint.url, "kinds": endpoint.kinds}
    bound = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and bound.is_valid():
        try:
            endpoint_update(endpoint=endpoint, **bound.cleaned_data)
        except DomainError as error:
            bound.add_error(error.field if error.field in bound.fields else None, error.message)
        else:
            messages.success(request, f"Saved {endpoint.name}.")
            return redirect("webhooks:endpoint", pk=endpoint.pk)
    back = reverse("webhooks:endpoint", kwargs={"pk": endpoint.pk})
    return edit_page(
        request,
        bound,
        title=f"Edit {endpoint.name}",
        back=back,
        parent_url=reverse("webhooks:list"),
        parent_label="Webhooks",
    )


@permission_required_or_403(VIEW)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    status = request.GET.get("status", "")
    if status not in Delivery.Status.values:
        status = ""
    page = Paginator(deliveries_for(endpoint=endpoint, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    kinds = [EVENT_TYPES[kind].label for kind in endpoint.kinds if kind in EVENT_TYPES]
    return render(
        request,
        "webhooks/endpoint.html",
        {
            "endpoint": endpoint,
            "kinds": kinds,
            "page": page,
            "chosen": status,
            "statuses": Delivery.Status.choices,
            "may_change": request.user.has_perm(CHANGE),
        },
    )


@permission_required_or_403(CHANGE)
@require_POST
def endpoint_send_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    endpoint_test(endpoint=endpoint, by=request.user)
    messages.success(request, "A test message is on its way; its attempt shows in the log below.")
    return redirect("webhooks:endpoint", pk=endpoint.pk)


def _confirmed(request, pk: int, *, question: str, detail: str, button: str, act) -> HttpResponse:
    """A confirmation page on GET; the act on POST."""
    endpoint = get_object_or_404(Endpoint, pk=pk)
    if request.method == "POST":
        said = act(endpoint)
        messages.success(request, said)
        return redirect("webhooks:endpoint", pk=endpoint.pk)
    context = {"endpoint": endpoint, "question": question, "detail": detail, "button": button}
    return render(request, "webhooks/confirm.html", context)


@permission_required_or_403(CHANGE)
def endpoint_switch_off(request: HttpRequest, pk: int) -> HttpResponse:
    def act(endpoint):
        endpoint_disable(endpoint=endpoint, reason=f"Switched off by {request.user}.")
        return f"Switched {endpoint.name} off."

    return _confirmed(
        request,
        pk,
        question="Switch this endpoint off?",
        detail="Nothing is sent to it, and no new events are kept for it, until it is switched "
        "on again. Deliveries still pending wait.",
        button="Switch off",
        act=act,
    )


@permission_required_or_403(CHANGE)
def endpoint_switch_on(request: HttpRequest, pk: int) -> HttpResponse:
    def act(endpoint):
        count = endpoint_enable(endpoint=endpoint)
        return f"Switched {endpoint.name} on; {count} pending deliveries are sent now."

    return _confirmed(
        request,
        pk,
        question="Switch this endpoint on?",
        detail="Its pending deliveries are sent at once, and new events are kept for it again.",
        button="Switch on",
        act=act,
    )


@permission_required_or_403(CHANGE)
def endpoint_new_secret(request: HttpRequest, pk: int) -> HttpResponse:
    def act(endpoint):
        endpoint_secret_rotate(endpoint=endpoint)
        return "A new secret is set: give it to the receiver; the old one no longer signs."

    return _confirmed(
        request,
        pk,
        question="Make a new signing secret?",
        detail="Every message from now on is signed with the new secret only; the receiver "
        "refuses them until it has it.",
        button="Make a new secret",
        act=act,
    )


@permission_required_or_403(CHANGE)
@require_POST
def delivery_send_again(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.select_related("endpoint"), pk=pk)
    try:
        delivery_redeliver(delivery=delivery)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request, f"Delivery {delivery.pk} is sent again, with the same webhook-id."
        )
    return redirect(
        reverse("webhooks:endpoint", kwargs={"pk": delivery.endpoint_id}) + f"#delivery-{pk}"
    )


class _Echo:
    def write(self, text: str) -> str:
        return text


@permission_required_or_403(VIEW)
def deliveries_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=pk)
    writer = SafeWriter(_Echo())
    head = ["delivery", "webhook_id", "event", "created_at", "status", "attempts", "delivered_at"]

    def rows():
        yield writer.writerow(head)
        for delivery in Delivery.objects.filter(endpoint=endpoint).order_by("-id").iterator():
            yield writer.writerow(
                [
                    delivery.pk,
                    delivery.msg_id,
                    delivery.kind,
                    delivery.created_at,
                    delivery.status,
                    delivery.attempts,
                    delivery.delivered_at,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="webhook-{endpoint.pk}-deliveries.csv"'
    return response
