from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from leads.capture.models import Form, FormField, FormVersion, QuarantinedPost
from leads.models import Lead, LeadEvent, Stage, Submission


def _published() -> QuerySet[Form]:
    return Form.objects.filter(
        status=Form.Status.PUBLISHED, current_version__isnull=False
    ).select_related("current_version")


def published_form(*, slug: str) -> Form:
    """The form the public may post to, with the version it serves; else a 404 (raised)."""
    return get_object_or_404(_published(), slug=slug)


def published_form_by_guid(*, guid) -> Form:
    """The published form with this GUID (the compatible endpoints' id); else a 404."""
    return get_object_or_404(_published(), guid=guid)


def allowed_origins_for_route(*, slug: str | None = None, guid=None) -> list[str]:
    """The embedding origins of the form a URL names by slug or GUID; none if no such form."""
    forms = Form.objects.filter(slug=slug) if slug else Form.objects.filter(guid=guid)
    return forms.values_list("allowed_origins", flat=True).first() or []


def embed_definition(*, form: Form) -> dict:
    """What the embed script needs to draw the published form and thank the visitor."""
    version = form.current_version
    fields = [
        {
            "key": spec["key"],
            "label": version.consent_text
            if spec["kind"] == FormField.Kind.CONSENT and version.consent_text
            else spec["label"],
            "kind": spec["kind"],
            "required": spec["required"],
            "help_text": spec["help_text"],
            "choices": spec["choices"],
            "default": spec["default"],
        }
        for spec in version.fields
    ]
    if not any(spec["kind"] == FormField.Kind.CONSENT for spec in version.fields):
        fields.append(
            {
                "key": "consent",
                "label": version.consent_text or "I agree to be contacted about this request.",
                "kind": FormField.Kind.CONSENT,
                "required": False,
                "help_text": "",
                "choices": [],
                "default": "",
            }
        )
    return {
        "name": form.name,
        "intro": form.intro,
        "version": version.number,
        "fields": fields,
        "thank_you_message": form.thank_you_message,
        "redirect_url": form.redirect_url,
    }


def forms_for_marketing(*, search: str = "", status: str = "") -> QuerySet[Form]:
    forms = Form.objects.annotate(submission_count=Count("submissions")).select_related(
        "current_version"
    )
    if search:
        forms = forms.filter(
            Q(name__icontains=search) | Q(slug__icontains=search) | Q(campaign__icontains=search)
        )
    if status:
        forms = forms.filter(status=status)
    return forms.order_by("name", "pk")


def form_versions(*, form: Form) -> QuerySet[FormVersion]:
    return form.versions.select_related("published_by").annotate(
        submission_count=Count("submissions")
    )


def draft_is_published(*, form: Form) -> bool:
    """Whether the draft fields are exactly what the current version serves."""
    version = form.current_version
    return version is not None and (version.fields, version.consent_text) == (
        form.draft_specs(),
        form.consent_text,
    )


@dataclass(frozen=True)
class FormStats:
    submissions: int
    leads: int
    qualified: int
    accepted: int
    won: int


def form_stats(*, form: Form) -> FormStats:
    """Submissions of the form, and how many of the leads it brought reached each stage."""
    reached = dict(
        LeadEvent.objects.filter(
            lead__source_form=form,
            kind=LeadEvent.Kind.STAGE_CHANGED,
            to_stage__in=[Stage.QUALIFIED, Stage.ACCEPTED, Stage.WON],
        )
        .values_list("to_stage")
        .annotate(leads=Count("lead", distinct=True))
    )
    return FormStats(
        submissions=Submission.objects.filter(form=form).count(),
        leads=Lead.objects.filter(source_form=form).count(),
        qualified=reached.get(Stage.QUALIFIED, 0),
        accepted=reached.get(Stage.ACCEPTED, 0),
        won=reached.get(Stage.WON, 0),
    )


def submission_answers(*, submission: Submission) -> list[tuple[str, object]]:
    """What the submission sent for each field, under the labels of its form version."""
    version = submission.form_version
    if version is None:
        return []
    return [
        (spec["label"], _shown(submission.payload[spec["key"]], kind=spec["kind"]))
        for spec in version.fields
        if submission.payload.get(spec["key"]) not in (None, "", [])
    ]


def _shown(value: object, *, kind: str) -> str:
    if kind in (FormField.Kind.CONSENT, FormField.Kind.CHECKBOX):
        return "No" if str(value).lower() in ("false", "0", "off") else "Yes"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def attribute_labels(*, lead: Lead) -> dict[str, str]:
    """Each attribute's label in the latest version, of the forms the lead sent, that asked.

    A submission without a recorded version (made before versions existed) reads under its
    form's current one.
    """
    labels: dict[str, str] = {}
    submissions = lead.submissions.select_related("form_version", "form__current_version")
    for submission in submissions.order_by("received_at", "pk"):
        version = submission.form_version or submission.form.current_version
        if version is not None:
            labels.update(version.labels)
    return labels


def quarantined_posts(
    *, search: str = "", form_id: int | None = None, reason: str = "", status: str = "held"
) -> QuerySet[QuarantinedPost]:
    """The quarantine for review, newest first: held posts unless another status is asked."""
    posts = QuarantinedPost.objects.select_related("form", "decided_by")
    if status:
        posts = posts.filter(status=status)
    if form_id:
        posts = posts.filter(form_id=form_id)
    if reason:
        # The JSON text holds each code in quotes; `contains` on a list is PostgreSQL-only.
        posts = posts.filter(reasons__icontains=f'"{reason}"')
    if search:
        posts = posts.filter(
            Q(email__icontains=search)
            | Q(ip_address__startswith=search)
            | Q(payload__icontains=search)
        )
    return posts.order_by("-received_at", "-pk")


def quarantine_held_count() -> int:
    return QuarantinedPost.objects.filter(status=QuarantinedPost.Status.HELD).count()
