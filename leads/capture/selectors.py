from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from leads.capture.models import Form


def published_form(*, slug: str) -> Form:
    """The form the public may post to; a draft or unknown slug is a 404 (raised)."""
    return get_object_or_404(Form.objects.filter(is_published=True), slug=slug)


def forms_for_marketing() -> QuerySet[Form]:
    return Form.objects.order_by("name").prefetch_related("fields")
