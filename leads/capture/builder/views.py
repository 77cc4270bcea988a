"""The form builder: marketers and marketing managers make, publish and retire forms.

Works without JavaScript: every change is a plain form post that comes back to the form's
page with a message. The writes are services; these views only read, bind and render.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.http import require_POST

from leads.capture.builder.builder_forms import FieldForm, FormSettingsForm
from leads.capture.builder.forms import build_form_class
from leads.capture.builder.tokens import hubspot_token_issue
from leads.capture.models import Form, FormField
from leads.capture.selectors import (
    draft_is_published,
    form_stats,
    form_versions,
    forms_for_marketing,
)
from leads.capture.services import (
    form_archive,
    form_create,
    form_field_add,
    form_field_move,
    form_field_remove,
    form_field_update,
    form_publish,
    form_unpublish,
    form_update,
)
from portal.accounts.decorators import permission_required_or_403
from portal.errors import DomainError
from portal.pages import edit_page

PAGE_SIZE = 20
EMBED_SCRIPT = "capture/embed.js"
EMBED_SNIPPET = (
    '<div data-leadbridge-form="{slug}"></div>\n'
    '<script src="{script}" data-leadbridge-api="{api}" async></script>'
)
# No src: frame.js sets it with the host page's address and UTM tags, so the frame loads once
# (a second load would count a second view); without JavaScript, the link opens the form.
IFRAME_SNIPPET = (
    '<iframe data-leadbridge-src="{url}" title="{name}" width="100%" height="760" '
    'style="border:0" loading="lazy"></iframe>\n'
    '<noscript><a href="{url}">{name}</a></noscript>\n'
    '<script src="{frame_script}" async></script>'
)
FRAME_SCRIPT = "capture/frame.js"
VIEW = "capture.view_form"
CHANGE = "capture.change_form"

# What each status move asks first, does, and says when done (a page each: no dialogs).
STATUS_MOVES = {
    "publish": (
        "Publish {form}?",
        "The draft becomes a new version: the public page and the JSON endpoint serve it "
        "from now on. Published versions never change; later edits make a new draft.",
        "primary",
        lambda form, user: form_publish(form=form, by=user),
        "Published {form} as version {version}.",
    ),
    "unpublish": (
        "Unpublish {form}?",
        "The public page and the JSON endpoint answer 404 until you publish it again. "
        "Its submissions and leads are kept.",
        "warning",
        lambda form, user: form_unpublish(form=form),
        "{form} is unpublished.",
    ),
    "archive": (
        "Archive {form}?",
        "It goes offline and out of the list of active forms. Its versions, submissions and "
        "leads are kept; you can publish it again later.",
        "danger",
        lambda form, user: form_archive(form=form),
        "{form} is archived.",
    ),
}


@permission_required_or_403(VIEW)
def form_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in Form.Status.values:
        status = ""
    page = Paginator(forms_for_marketing(search=search, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "search": search, "status": status, "statuses": Form.Status.choices}
    return render(request, "capture/form_list.html", context)


@permission_required_or_403("capture.add_form")
def form_new(request: HttpRequest) -> HttpResponse:
    bound = FormSettingsForm(request.POST or None)
    if request.method == "POST" and bound.is_valid():
        form = form_create(by=request.user, **bound.cleaned_data)
        messages.success(request, f"Created {form}: a draft asking for the work e-mail.")
        return redirect("capture:builder", pk=form.pk)
    return _edit_page(request, bound, title="New form", back=reverse("capture:form_list"))


@permission_required_or_403(VIEW)
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(Form.objects.select_related("current_version"), pk=pk)
    hosted = request.build_absolute_uri(form.get_absolute_url())
    endpoint = request.build_absolute_uri(
        reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    )
    # The unhashed name: a snippet pasted on another site must outlive our next deploy, and
    # WhiteNoise serves the original beside each hashed copy.
    script = request.build_absolute_uri(settings.STATIC_URL.rstrip("/") + "/" + EMBED_SCRIPT)
    api = request.build_absolute_uri("/").rstrip("/")
    # The URLs as the site already has them, when the marketer set HubSpot's ids on the form.
    hubspot = {
        "portal_id": form.hubspot_portal_id or "0",
        "guid": form.hubspot_form_guid or form.guid,
    }
    context = {
        "form": form,
        "embed_snippet": EMBED_SNIPPET.format(slug=form.slug, script=script, api=api),
        "iframe_snippet": IFRAME_SNIPPET.format(
            url=hosted,
            name=escape(form.name),
            frame_script=request.build_absolute_uri(
                settings.STATIC_URL.rstrip("/") + "/" + FRAME_SCRIPT
            ),
        ),
        **{
            f"{name}_url": request.build_absolute_uri(reverse(f"capture:{name}", kwargs=hubspot))
            for name in ("hubspot_submit", "hubspot_secure_submit", "hubspot_v2_submit")
        },
        "web_to_lead_url": request.build_absolute_uri(reverse("capture:web_to_lead_servlet"))
        + "?encoding=UTF-8",
        "fields": list(form.fields.all()),
        "versions": form_versions(form=form),
        "stats": form_stats(form=form),
        "draft_published": draft_is_published(form=form),
        "hosted_url": hosted,
        "endpoint_url": endpoint,
    }
    return render(request, "capture/builder.html", context)


@permission_required_or_403(CHANGE)
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(Form, pk=pk)
    bound = FormSettingsForm(request.POST or None, instance=form)
    if request.method == "POST" and bound.is_valid():
        form_update(form=form, **bound.cleaned_data)
        messages.success(request, f"Saved the settings of {form}.")
        return redirect("capture:builder", pk=form.pk)
    return _edit_page(request, bound, title=f"Settings: {form}", back=_back(form))


@permission_required_or_403(CHANGE)
def field_new(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(Form, pk=pk)
    bound = FieldForm(request.POST or None, form=form)
    if request.method == "POST" and bound.is_valid():
        field = form_field_add(form=form, **bound.settings())
        messages.success(request, f"Added the field {field.label} to the draft.")
        return redirect("capture:builder", pk=form.pk)
    return _edit_page(request, bound, title=f"New field: {form}", back=_back(form))


@permission_required_or_403(CHANGE)
def field_edit(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    field = get_object_or_404(FormField.objects.select_related("form"), pk=field_pk, form_id=pk)
    bound = FieldForm(request.POST or None, instance=field, form=field.form)
    if request.method == "POST" and bound.is_valid():
        form_field_update(field=field, **bound.settings())
        messages.success(request, f"Saved the field {field.label} in the draft.")
        return redirect("capture:builder", pk=pk)
    return _edit_page(request, bound, title=f"Field: {field.label}", back=_back(field.form))


@permission_required_or_403(CHANGE)
@require_POST
def field_remove(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    field = get_object_or_404(FormField, pk=field_pk, form_id=pk)
    try:
        form_field_remove(field=field)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Removed the field {field.label} from the draft.")
    return redirect("capture:builder", pk=pk)


@permission_required_or_403(CHANGE)
@require_POST
def field_move(request: HttpRequest, pk: int, field_pk: int) -> HttpResponse:
    field = get_object_or_404(FormField, pk=field_pk, form_id=pk)
    form_field_move(field=field, up=request.POST.get("direction") == "up")
    return redirect(reverse("capture:builder", kwargs={"pk": pk}) + "#fields")


@permission_required_or_403(VIEW)
def form_preview(request: HttpRequest, pk: int) -> HttpResponse:
    form = get_object_or_404(Form, pk=pk)
    preview = build_form_class(form.draft_specs(), consent_text=form.consent_text)()
    return render(request, "capture/preview.html", {"form": form, "bound": preview})


@permission_required_or_403(CHANGE)
def form_status(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    form = get_object_or_404(Form, pk=pk)
    question, explanation, style, do, done = STATUS_MOVES[move]
    if request.method == "POST":
        try:
            version = do(form, request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, done.format(form=form, version=getattr(version, "number", ""))
            )
        return redirect("capture:builder", pk=form.pk)
    context = {
        "form": form,
        "question": question.format(form=form),
        "explanation": explanation,
        "style": style,
        "move": move,
    }
    return render(request, "capture/confirm.html", context)


@permission_required_or_403(CHANGE)
def hubspot_token(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks first (a new token ends the old one); POST makes it and shows it once."""
    form = get_object_or_404(Form, pk=pk)
    if request.method == "POST":
        token = hubspot_token_issue(form=form)
        response = render(request, "capture/token.html", {"form": form, "token": token})
        response["Cache-Control"] = "no-store"
        return response
    replacing = bool(form.hubspot_token_hash)
    context = {
        "form": form,
        "question": f"{'Replace' if replacing else 'Make'} the HubSpot token of {form}?",
        "explanation": (
            "The secure HubSpot endpoint takes posts only with this token. "
            + (
                "The token in use stops working at once: update every site that sends it. "
                if replacing
                else ""
            )
            + "You see the new token once, on the next page."
        ),
        "style": "warning" if replacing else "primary",
        "move": "replace the token" if replacing else "make a token",
    }
    return render(request, "capture/confirm.html", context)


def _back(form: Form) -> str:
    return reverse("capture:builder", kwargs={"pk": form.pk})


def _edit_page(request: HttpRequest, bound, *, title: str, back: str) -> HttpResponse:
    parent = reverse("capture:form_list")
    return edit_page(
        request, bound, title=title, back=back, parent_url=parent, parent_label="Forms"
    )
