import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Count, Q, QuerySet, Sum, When
from django.http import Http404
from django.shortcuts import get_object_or_404

from leads.capture.models import (
    Form,
    FormDailyViews,
    FormField,
    FormVersion,
    ImportRow,
    LeadImport,
    QuarantinedPost,
)
from leads.models import Lead, LeadEvent, Stage, Submission
from portal.errors import ALL_FIELDS


def _published() -> QuerySet[Form]:
    return Form.objects.filter(
        status=Form.Status.PUBLISHED, current_version__isnull=False
    ).select_related("current_version")


def published_form(*, slug: str) -> Form:
    """The form the public may post to, with the version it serves; else a 404 (raised)."""
    return _remembered(("slug", slug), lambda: get_object_or_404(_published(), slug=slug))


def published_form_by_guid(*, guid) -> Form:
    """The published form with this GUID (the compatible endpoints' id); else a 404."""
    return _remembered(("guid", guid), lambda: get_object_or_404(_published(), guid=guid))


def published_form_for_hubspot(*, portal_id: str, guid) -> Form:
    """The published form a HubSpot URL names: by our GUID (any portal id), or by the HubSpot
    form GUID set on the form (with its portal id, when one is set); else a 404."""
    form = _remembered(("hubspot", guid), lambda: _by_either_guid(guid))
    if form.guid != guid and form.hubspot_portal_id and form.hubspot_portal_id != portal_id:
        raise Http404("No form with this HubSpot portal id and form GUID.")
    return form


def _by_either_guid(guid) -> Form:
    found = list(_published().filter(Q(guid=guid) | Q(hubspot_form_guid=guid))[:2])
    if not found:
        raise Http404("No published form with this GUID.")
    return next((form for form in found if form.guid == guid), found[0])


def published_form_by_org_id(*, org_id: str) -> Form:
    """The published form with this Salesforce org id (15 or 18 characters); else a 404."""
    org_id = org_id[:15]
    return _remembered(
        ("org", org_id), lambda: get_object_or_404(_published(), salesforce_org_id=org_id)
    )


# Each web process remembers the published forms it served for PUBLISHED_FORM_SECONDS: the
# lookup (a join and the version's fields as JSON) was a quarter of an intake post's CPU. A
# save of any form or version in this process forgets them all (`forget_published_forms`);
# another process sees a publish, unpublish or archive within PUBLISHED_FORM_SECONDS. Posts
# in that window are stored against the version they were made on, which is still a frozen,
# readable version. Unknown slugs are not remembered, so random URLs cannot fill memory.
_published_forms: dict[tuple[str, object], tuple[float, Form]] = {}


def _remembered(key: tuple[str, object], find: Callable[[], Form]) -> Form:
    now = time.monotonic()
    remembered = _published_forms.get(key)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    form = find()
    _published_forms[key] = (now + settings.LEADBRIDGE_PUBLISHED_FORM_SECONDS, form)
    return form


def forget_published_forms(**kwargs) -> None:
    _published_forms.clear()


def allowed_origins_for_route(*, slug: str | None = None, guid=None) -> list[str]:
    """The embedding origins of the form a URL names by slug or GUID; none if no such form."""
    if slug:
        forms = Form.objects.filter(slug=slug)
    else:
        try:
            guid = uuid.UUID(str(guid))
        except ValueError:
            return []
        # Our GUID first, then the HubSpot form GUID set on a form (the HubSpot endpoints).
        forms = Form.objects.filter(Q(guid=guid) | Q(hubspot_form_guid=guid)).order_by(
            Case(When(guid=guid, then=0), default=1)
        )
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
        # Only a #rrggbb colour and an https address: the embed puts them in a style property
        # and an img src, and checks them again before it does.
        "accent_color": form.accent,
        "logo_url": form.logo,
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


def export_field_keys(*, forms: QuerySet[Form]) -> list[str]:
    """Every field key the forms ever published or have in draft, in first-seen order: the
    columns of an export (a small read of the versions, not of the submissions)."""
    keys: dict[str, None] = {}
    versions = FormVersion.objects.filter(form__in=forms.values("pk")).order_by("form", "number")
    for fields in versions.values_list("fields", flat=True):
        keys.update((spec["key"], None) for spec in fields)
    drafts = FormField.objects.filter(form__in=forms.values("pk")).order_by("form", "position")
    keys.update((key, None) for key in drafts.values_list("key", flat=True))
    return list(keys)


def submissions_for_export(*, forms: QuerySet[Form]) -> QuerySet[Submission]:
    return (
        Submission.objects.filter(form__in=forms.values("pk"))
        .select_related("form", "form_version", "lead")
        .order_by("received_at", "pk")
    )


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
    views: int
    submissions: int
    leads: int
    qualified: int
    accepted: int
    won: int
    from_views: int = 0  # submissions posted from the hosted page or the embed

    @property
    def conversion_rate(self) -> float | None:
        """Posts from the hosted page or the embed per view, 0..1: an API post, an import or
        a seeded submission had no view and is not counted. None before any view."""
        return self.from_views / self.views if self.views else None

    @property
    def conversion_percent(self) -> str:
        rate = self.conversion_rate
        return "" if rate is None else f"{rate * 100:.1f} %"


def form_stats(*, form: Form) -> FormStats:
    """Views and submissions of the form, and how many of the leads that sent it (first or
    again) reached each stage. Three aggregate queries, however many leads there are."""
    views = FormDailyViews.objects.filter(form=form).aggregate(total=Sum("views"))["total"]
    sent = Submission.objects.filter(form=form).aggregate(
        submissions=Count("pk"),
        leads=Count("lead", distinct=True),
        from_views=Count("pk", filter=Q(intake=Submission.FROM_A_VIEW)),
    )
    # A stage counts once it was reached, also by a lead that has moved on since (a won lead
    # was accepted); the stage-change events are the record of that.
    reached = dict(
        LeadEvent.objects.filter(
            lead__in=Submission.objects.filter(form=form).values("lead"),
            kind=LeadEvent.Kind.STAGE_CHANGED,
            to_stage__in=[Stage.QUALIFIED, Stage.ACCEPTED, Stage.WON],
        )
        .values_list("to_stage")
        .annotate(leads=Count("lead", distinct=True))
        .order_by()
    )
    return FormStats(
        views=views or 0,
        submissions=sent["submissions"],
        leads=sent["leads"],
        qualified=reached.get(Stage.QUALIFIED, 0),
        accepted=reached.get(Stage.ACCEPTED, 0),
        won=reached.get(Stage.WON, 0),
        from_views=sent["from_views"],
    )


@dataclass(frozen=True)
class LeadOrigin:
    """The form a lead came through, the version it sent, and the campaign behind it."""

    form: Form
    version: FormVersion | None
    received_at: object


def lead_origin(*, lead: Lead) -> LeadOrigin | None:
    """The lead's first submission's form and version (one query), for the rep's brief."""
    first = (
        lead.submissions.select_related("form", "form_version")
        .order_by("received_at", "pk")
        .first()
    )
    if first is None:
        return None
    return LeadOrigin(form=first.form, version=first.form_version, received_at=first.received_at)


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


@dataclass(frozen=True)
class FieldProblem:
    """A field a submission sent that its form refused but that was kept as sent."""

    submission: Submission
    label: str
    message: str
    raw: str


def lead_field_problems(*, lead: Lead) -> list[FieldProblem]:
    """The problems recorded on the lead's submissions, newest first, each field under the
    label its form version gave it."""
    found = []
    for submission in lead.submissions.exclude(problems=[]).select_related("form_version"):
        labels = submission.form_version.labels if submission.form_version else {}
        for problem in submission.problems:
            field = problem["field"]
            raw = problem.get("raw", "")
            found.append(
                FieldProblem(
                    submission=submission,
                    label="The whole post" if field == ALL_FIELDS else labels.get(field, field),
                    message=problem["message"],
                    raw=", ".join(map(str, raw)) if isinstance(raw, list) else str(raw),
                )
            )
    return found


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


def import_lead_stages(*, lead_import: LeadImport) -> list[tuple[str, str, int]]:
    """Where the leads an import created or updated stand now: (stage, label, count) in the
    lifecycle's order, in one aggregate query. The marketing manager sees here the open leads
    an import kept from reps (recycled) beside those it handed on."""
    touched = ImportRow.objects.filter(lead_import=lead_import, lead__isnull=False)
    counts = dict(
        Lead.objects.filter(pk__in=touched.values("lead_id"))
        .values_list("stage")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [(stage, label, counts[stage]) for stage, label in Stage.choices if counts.get(stage)]
