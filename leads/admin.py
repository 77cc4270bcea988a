"""Leads, submissions and their events are read-only in the admin: stages change only
through leads.lifecycle, submissions are never edited and events are history."""

from django.contrib import admin

from leads.models import Lead, LeadEvent, Submission


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    fields = ["id", "at", "kind", "from_stage", "to_stage", "actor", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ["email", "company", "stage", "score", "owner", "queue", "created_at"]
    list_filter = ["stage", "queue"]
    search_fields = ["email", "company", "first_name", "last_name"]
    date_hierarchy = "created_at"
    inlines = [LeadEventInline]


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["lead", "form", "received_at", "consent"]
    list_filter = ["form"]
    search_fields = ["lead__email"]
    date_hierarchy = "received_at"
