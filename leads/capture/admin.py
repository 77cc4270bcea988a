"""Forms are built in the portal (Forms); the admin shows them, and their frozen versions."""

from django.contrib import admin
from django.db import models

from leads.capture.models import Form, FormField, FormVersion


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 0


class FormVersionInline(admin.TabularInline):
    model = FormVersion
    extra = 0
    can_delete = False
    fields = ["number", "published_at", "published_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Form)
class FormAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "campaign", "status", "current_version", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug", "campaign"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["status", "current_version"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [FormFieldInline, FormVersionInline]
