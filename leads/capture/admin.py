"""Forms are set up here until the form builder lands."""

from django.contrib import admin

from leads.capture.models import Form, FormField


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
