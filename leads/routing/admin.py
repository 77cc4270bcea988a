"""Queues for the admin; sales managers set them up on their own page (`views`)."""

from django.contrib import admin

from leads.routing.models import Queue, QueueMember


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    extra = 1
    autocomplete_fields = ["rep"]


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "capacity_per_rep", "is_active"]
    readonly_fields = ["last_position"]
    inlines = [QueueMemberInline]
