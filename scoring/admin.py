from django import forms
from django.contrib import admin, messages

from scoring.models import Agreement, Criterion
from scoring.services import agreement_draft_from, criterion_problems


class CriterionAdminForm(forms.ModelForm):
    """The admin refuses what the agreement editor refuses: the same rules, by field."""

    class Meta:
        model = Criterion
        fields = "__all__"  # noqa: DJ007 - the inline's own columns

    def clean(self):
        cleaned = super().clean()
        terms = ("kind", "attribute", "operator", "value", "points", "blank_passes")
        if all(name in cleaned for name in terms):
            for field, problems in criterion_problems(**{n: cleaned[n] for n in terms}).items():
                for problem in problems:
                    self.add_error(field, problem["message"])
        return cleaned


class CriterionInline(admin.TabularInline):
    model = Criterion
    form = CriterionAdminForm
    extra = 1

    # `obj` is the agreement: once a side has signed it, its criteria are only shown.
    def has_add_permission(self, request, obj=None) -> bool:
        return super().has_add_permission(request, obj) and not _proposed(obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not _proposed(obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not _proposed(obj)


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    """Drafting only: proposing, signing and activation go through scoring.services (and the
    agreement pages at /agreement/).

    A proposed version is shown read-only; "Make a new draft" copies it into the next version.
    """

    list_display = [
        "version",
        "threshold",
        "proposed_at",
        "sales_signed_at",
        "marketing_signed_at",
        "activated_at",
        "retired_at",
    ]
    # The lifecycle (proposal, signatures, activation, retirement) is the services' alone.
    readonly_fields = [
        "created_by",
        "created_at",
        "proposed_by",
        "proposed_at",
        "sales_signed_by",
        "sales_signed_at",
        "marketing_signed_by",
        "marketing_signed_at",
        "activated_at",
        "retired_at",
        # Scope and working hours are checked by the editor's services (overlaps, time zones).
        "scope",
        "form_ids",
        "based_on",
        "business_days",
        "business_opens",
        "business_closes",
        "time_zone",
    ]
    inlines = [CriterionInline]
    actions = ["make_draft"]

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and not _proposed(obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not _proposed(obj)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Make a new draft from the selected versions", permissions=["add"])
    def make_draft(self, request, queryset) -> None:
        for agreement in queryset.order_by("version"):
            draft = agreement_draft_from(agreement=agreement, by=request.user)
            self.message_user(
                request,
                f"{draft} is a new draft made from {agreement}: edit it, then both sides sign it.",
                messages.SUCCESS,
            )


def _proposed(agreement: Agreement | None) -> bool:
    return agreement is not None and agreement.is_proposed
