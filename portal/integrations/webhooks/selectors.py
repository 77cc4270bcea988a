from django.db.models import Count, Max, Prefetch, Q, QuerySet

from portal.integrations.webhooks.models import Delivery, DeliveryAttempt, Endpoint


def endpoint_list() -> QuerySet[Endpoint]:
    """Every endpoint, with its pending and failed counts and its last delivery's time."""
    return Endpoint.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        last_at=Max("deliveries__created_at"),
    ).order_by("name", "id")


def deliveries_for(*, endpoint: Endpoint, status: str = "") -> QuerySet[Delivery]:
    """An endpoint's deliveries, newest first, each with its attempts (newest first)."""
    mine = Delivery.objects.filter(endpoint=endpoint)
    if status:
        mine = mine.filter(status=status)
    attempts = DeliveryAttempt.objects.order_by("-id")
    return mine.prefetch_related(Prefetch("attempt_rows", queryset=attempts)).order_by("-id")
