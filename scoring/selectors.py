"""Reads of agreements: the versions, one version and its criteria, the keys criteria use."""

from django.apps import apps
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from scoring.models import Agreement, Criterion


def attribute_keys() -> set[str]:
    """The lead attributes some form asks for: the keys a criterion can judge.

    The fields belong to capture, which scoring never imports (the independence contract);
    the model is looked up by name, and only its keys are read.
    """
    form_field = apps.get_model("capture", "FormField")
    return set(form_field.objects.values_list("key", flat=True).distinct())


def agreement_versions() -> QuerySet[Agreement]:
    """Every version, newest first, with the people named on its page."""
    return Agreement.objects.select_related(
        "created_by", "proposed_by", "sales_signed_by", "marketing_signed_by"
    ).order_by("-version")


def agreement_version(*, version: int) -> Agreement:
    return get_object_or_404(agreement_versions(), version=version)


def agreement_active() -> Agreement | None:
    return agreement_versions().active()


def agreement_before(*, agreement: Agreement) -> Agreement | None:
    """The version this one is compared with: the one numbered just below it."""
    return agreement_versions().filter(version__lt=agreement.version).first()


def agreement_criteria(*, agreement: Agreement) -> list[Criterion]:
    return list(agreement.criteria.order_by("position", "pk"))


def agreement_comments(*, agreement: Agreement):
    return agreement.comments.select_related("author")
