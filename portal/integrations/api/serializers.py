"""What the API answers: read-only descriptions of our rows. Writes go through the
portal's own forms and services (forms_io.py, views.py), never through `save()` here."""

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.timezone import make_aware
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from leads.capture.models import Form, FormVersion
from leads.capture.services import FORM_SETTINGS
from leads.models import Lead, LeadEvent, Stage, Submission
from leads.routing.models import Queue, QueueMember
from leads.routing.services import QUEUE_SETTINGS
from portal.integrations.api.models import ApiToken
from scoring.models import Agreement, Criterion
from scoring.services import AGREEMENT_SETTINGS


class FieldProblemSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The one error shape (docs/errors.md): a code, and the problems per field ("__all__"
    for the request as a whole)."""

    code = serializers.CharField(help_text="Machine-readable, e.g. illegal_move, rate_limited.")
    errors = serializers.DictField(
        child=FieldProblemSerializer(many=True),
        help_text='Per field name ("__all__": the whole request), what is wrong with it.',
    )


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(source="get_full_name")


class FormVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormVersion
        fields = ["id", "number", "fields", "consent_text", "published_at"]


class FormSerializer(serializers.ModelSerializer):
    current_version = FormVersionSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Form
        # What the builder's settings page edits (and the API's writes take), as it grows.
        fields = [
            "id",
            *FORM_SETTINGS,
            "status",
            "guid",
            "current_version",
            "created_at",
            "updated_at",
        ]


class SubmissionSerializer(serializers.ModelSerializer):
    form_version = serializers.IntegerField(
        source="form_version.number", allow_null=True, read_only=True
    )

    class Meta:
        model = Submission
        fields = [
            "id",
            "lead",
            "form",
            "form_version",
            "payload",
            "received_at",
            "page_url",
            "utm",
            "consent",
            "problems",
        ]


class LeadSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True, allow_null=True)
    queue = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "company",
            "attributes",
            "stage",
            "score",
            "source_form",
            "campaign",
            "owner",
            "queue",
            "created_at",
            "updated_at",
            "stage_changed_at",
            "first_action_at",
            "nurture_until",
            "due_at",
        ]

    def to_representation(self, lead: Lead | dict[str, Any]) -> dict[str, Any]:
        """What the fields above make of a lead (a model instance, or a row of LEAD_ROW_COLUMNS),
        made without DRF's per-field walk: on a page of 50 leads that walk (source lookups,
        callable checks, a time zone per date) was half of the request's CPU. The fields'
        own rules, written out; tests compare both with DRF's generic representation."""
        if api_settings.DATETIME_FORMAT != ISO_8601 or api_settings.DATE_FORMAT != ISO_8601:
            return super().to_representation(lead)
        return _lead_shown(lead if isinstance(lead, dict) else _lead_row(lead))


# What the leads list reads of each lead: the shown columns and the owner's names, as rows
# (selectors.lead_rows_for_api), without a model instance for the lead or its owner.
# Each shown field is read as its column (`attname`): a foreign key as its id.
LEAD_ROW_COLUMNS = (
    *(Lead._meta.get_field(name).attname for name in LeadSerializer.Meta.fields),
    "owner__username",
    "owner__first_name",
    "owner__last_name",
)


def _lead_row(lead: Lead) -> dict[str, Any]:
    row = {name: getattr(lead, name) for name in LEAD_ROW_COLUMNS if "__" not in name}
    owner = lead.owner
    for name in ("username", "first_name", "last_name"):
        row[f"owner__{name}"] = getattr(owner, name) if owner is not None else None
    return row


def _lead_shown(row: dict[str, Any]) -> dict[str, Any]:
    zone = timezone.get_current_timezone()
    owner_id = row["owner_id"]
    nurture_until = row["nurture_until"]
    return {
        "id": row["id"],
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "company": row["company"],
        "attributes": row["attributes"],
        "stage": _choice(row["stage"]),
        "score": row["score"],
        "source_form": row["source_form_id"],
        "campaign": row["campaign"],
        "owner": None
        if owner_id is None
        else {
            "id": owner_id,
            "username": row["owner__username"],
            "name": _full_name(row),
        },
        "queue": row["queue_id"],
        "created_at": _iso_datetime(row["created_at"], zone),
        "updated_at": _iso_datetime(row["updated_at"], zone),
        "stage_changed_at": _iso_datetime(row["stage_changed_at"], zone),
        "first_action_at": _iso_datetime(row["first_action_at"], zone),
        "nurture_until": nurture_until.isoformat() if nurture_until else None,
        "due_at": _iso_datetime(row["due_at"], zone),
    }


def _full_name(row: dict[str, Any]) -> str:
    # AbstractUser.get_full_name, for a row that carries the owner's names.
    return f"{row['owner__first_name']} {row['owner__last_name']}".strip()


def _choice(value: str) -> str:
    # A TextChoices member shows as its value, as ChoiceField's lookup makes it.
    return str(value) if isinstance(value, Stage) else value


def _iso_datetime(value: datetime | None, zone) -> str | None:
    """DRF's DateTimeField in ISO 8601: in the current time zone, UTC written "Z"."""
    if not value or isinstance(value, str):
        return value or None
    value = value.astimezone(zone) if value.utcoffset() is not None else make_aware(value, zone)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class LeadEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", read_only=True)

    class Meta:
        model = LeadEvent
        fields = [
            "id",
            "lead",
            "kind",
            "at",
            "actor",
            "from_stage",
            "to_stage",
            "reason",
            "reason_code",
            "data",
        ]


class CriterionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Criterion
        fields = [
            "id",
            "label",
            "kind",
            "attribute",
            "operator",
            "value",
            "points",
            "blank_passes",
            "position",
        ]


class AgreementSerializer(serializers.ModelSerializer):
    scope = serializers.CharField(source="scope.name", read_only=True)
    status = serializers.CharField(read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)
    # "09:00:00" in the agreement's time zone: a wall-clock time, which OpenAPI's "time"
    # format (an RFC 3339 time with an offset) is not.
    business_opens = serializers.CharField(read_only=True, help_text="HH:MM:SS, in time_zone.")
    business_closes = serializers.CharField(read_only=True, help_text="HH:MM:SS, in time_zone.")
    holidays = serializers.ListField(
        child=serializers.DateField(),
        read_only=True,
        help_text="Days off, local dates in time_zone, oldest first: service levels do not "
        "count them.",
    )

    class Meta:
        model = Agreement
        fields = [
            "version",
            "status",
            "scope",
            *AGREEMENT_SETTINGS,
            "form_ids",
            "created_at",
            "proposed_at",
            "sales_signed_at",
            "marketing_signed_at",
            "activated_at",
            "retired_at",
            "criteria",
        ]


class QueueMemberSerializer(serializers.ModelSerializer):
    rep = UserRefSerializer(read_only=True)

    class Meta:
        model = QueueMember
        fields = ["rep", "position", "is_active", "weight", "open_cap", "daily_cap"]


class QueueConditionSerializer(serializers.Serializer):
    """One condition of a queue's rule: the agreement's operators and blank rules."""

    attribute = serializers.CharField(help_text="A lead attribute, e.g. country, company_size.")
    operator = serializers.CharField(help_text="An operator of the agreement's criteria.")
    value = serializers.JSONField(
        required=False, allow_null=True, help_text="A list, a number, two numbers or null."
    )
    blank_passes = serializers.BooleanField(required=False, default=False)


class QueueSerializer(serializers.ModelSerializer):
    conditions = QueueConditionSerializer(many=True, read_only=True)
    members = QueueMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Queue
        # What the queue page edits (and the API's writes take), as it grows.
        fields = ["id", *QUEUE_SETTINGS, "members"]


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "read_only", "created_at", "last_used_at", "revoked_at"]


class AgreementDraftSerializer(serializers.Serializer):
    scope_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Blank: a new version of the main agreement; else a new scope's first version.",
    )


class SignSerializer(serializers.Serializer):
    side = serializers.ChoiceField(choices=Agreement.Side.values)


class SendBackSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000)


# The dashboard's panels, as portal/dashboard/selectors.py gives them.


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    label = serializers.CharField()
    reached = serializers.IntegerField(help_text="Leads that reached this stage or passed it.")
    conversion = serializers.FloatField(
        allow_null=True, help_text="% of the stage before; null for the first or when it had none."
    )


class ExitReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    leads = serializers.IntegerField()


class FunnelExitSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    label = serializers.CharField()
    leads = serializers.IntegerField(help_text="Leads that ever went there.")
    reasons = ExitReasonSerializer(many=True)


class FunnelSerializer(serializers.Serializer):
    captured = serializers.IntegerField()
    stages = FunnelStageSerializer(many=True)
    exits = FunnelExitSerializer(many=True, help_text="Side exits: rejected, lost, recycled…")


class SpeedMeasureSerializer(serializers.Serializer):
    measure = serializers.CharField(help_text="first_action, first_contact, routing or rep.")
    label = serializers.CharField()
    leads = serializers.IntegerField(help_text="Leads with this timing.")
    median = serializers.FloatField(allow_null=True, help_text="Seconds.")
    p90 = serializers.FloatField(allow_null=True, help_text="Seconds.")


class SpeedBucketSerializer(serializers.Serializer):
    bucket = serializers.CharField()
    leads = serializers.IntegerField()


class SpeedWeekSerializer(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday of the week of submission.")
    leads = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True, help_text="Seconds to first action.")
    p90 = serializers.FloatField(allow_null=True, help_text="Seconds to first action.")


class SpeedToLeadSerializer(serializers.Serializer):
    measures = SpeedMeasureSerializer(many=True)
    distribution = SpeedBucketSerializer(many=True, help_text="Time to first action.")
    weekly = SpeedWeekSerializer(many=True)


class TeamRowSerializer(serializers.Serializer):
    rep = serializers.CharField()
    open = serializers.IntegerField()
    routed = serializers.IntegerField()
    accepted = serializers.IntegerField()
    won = serializers.IntegerField()
    win_rate = serializers.FloatField(allow_null=True, help_text="% won of accepted.")
    rep_median = serializers.FloatField(
        allow_null=True, help_text="Seconds from routed to the rep's first action."
    )


class ScoreRowSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The agreement version that judged them.")
    score = serializers.IntegerField()
    qualified = serializers.IntegerField()
    not_qualified = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField(
        help_text='When these figures were computed: the page shows the same ones, "as of" '
        "this time, and computes them again after DASHBOARD_FIGURES_SECONDS or a Refresh."
    )
    funnel = FunnelSerializer()
    speed_to_lead = SpeedToLeadSerializer()
    team = TeamRowSerializer(many=True, help_text="Per rep.")
    scores = ScoreRowSerializer(many=True, help_text="Per version and score.")
