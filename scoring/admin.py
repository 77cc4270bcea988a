from django.contrib import admin

from scoring.models import Agreement, Criterion


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 1


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    """Drafting only: signatures and activation go through scoring.services.agreement_sign."""

    list_display = [
        "version",
        "threshold",
        "sales_signed_at",
        "marketing_signed_at",
        "activated_at",
    ]
    readonly_fields = [
        "sales_signed_by",
        "sales_signed_at",
        "marketing_signed_by",
        "marketing_signed_at",
        "activated_at",
    ]
    inlines = [CriterionInline]
