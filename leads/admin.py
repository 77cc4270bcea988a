"""The admin site: forms and queues are set up here until their own pages land.

Leads, submissions and events are read-only: stages change only through leads.lifecycle,
and submissions are never edited.
"""

from django.contrib import admin

from leads.models import Form, FormField, HandoffEvent, Lead, Queue, QueueMember, Submission


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 1


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "campaign", "is_published", "created_at"]
    list_filter = ["is_published"]
    search_fields = ["name", "slug", "campaign"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [FormFieldInline]


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    extra = 1
    autocomplete_fields = ["rep"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "match_attribute", "capacity_per_rep", "is_active"]
    readonly_fields = ["last_position"]
    inlines = [QueueMemberInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class HandoffEventInline(admin.TabularInline):
    model = HandoffEvent
    fields = ["at", "from_stage", "to_stage", "actor", "reason"]
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
    inlines = [HandoffEventInline]


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["lead", "form", "received_at", "consent"]
    list_filter = ["form"]
    search_fields = ["lead__email"]
    date_hierarchy = "received_at"
