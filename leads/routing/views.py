"""The sales manager's queues: the list, a new queue, and a queue's settings and reps."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from leads.routing.forms import QueueForm
from leads.routing.models import Queue, QueueMember
from leads.routing.selectors import active_reps, catch_all_exists, unrouted_count
from leads.routing.services import queue_save
from portal.accounts.decorators import permission_required_or_403
from portal.pages import edit_page


@permission_required_or_403("routing.view_queue")
def queue_list(request: HttpRequest) -> HttpResponse:
    members = QueueMember.objects.select_related("rep").order_by("position")
    queues = Queue.objects.prefetch_related(Prefetch("members", queryset=members))
    # Members routing passes over (an account deactivated, a role that no longer works leads).
    routable = set(active_reps().values_list("pk", flat=True))
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
    bound = QueueForm(request.POST or None, instance=queue)
    if request.method == "POST" and bound.is_valid():
        queue = queue_save(queue=bound.save(commit=False), reps=bound.cleaned_data["members"])
        messages.success(request, f"Saved the queue {queue.name}.")
        return redirect("routing:queue_list")
    listed = reverse("routing:queue_list")
    return edit_page(
        request, bound, title=title, back=listed, parent_url=listed, parent_label="Queues"
    )
