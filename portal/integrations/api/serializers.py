"""What the API answers: read-only descriptions of our rows. Writes go through the
portal's own forms and services (forms_io.py, views.py), never through `save()` here."""

from rest_framework import serializers

from leads.capture.models import Form, FormVersion
from leads.models import Lead, LeadEvent, Submission
from leads.routing.models import Queue, QueueMember
from portal.integrations.api.models import ApiToken
from scoring.models import Agreement, Criterion


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
        fields = [
            "id",
            "name",
            "slug",
            "status",
            "campaign",
            "campaign_brief",
            "intro",
            "thank_you_message",
            "redirect_url",
            "consent_text",
            "phone_region",
            "allowed_origins",
            "logo_url",
            "accent_color",
            "stop_phrases",
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

    class Meta:
        model = Agreement
        fields = [
            "version",
            "status",
            "scope",
            "summary",
            "threshold",
            "accept_within_minutes",
            "contact_within_hours",
            "business_days",
            "business_opens",
            "business_closes",
            "time_zone",
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


class QueueSerializer(serializers.ModelSerializer):
    members = QueueMemberSerializer(many=True, read_only=True)

    class Meta:
        model = Queue
        fields = [
            "id",
            "name",
            "priority",
            "conditions",
            "strategy",
            "capacity_per_rep",
            "daily_cap_per_rep",
            "is_active",
            "manager",
            "remind_percent",
            "max_reassignments",
            "escalate_off_hours",
            "business_days",
            "business_opens",
            "business_closes",
            "time_zone",
            "members",
        ]


class QueueConditionSerializer(serializers.Serializer):
    """One condition of a queue's rule: the agreement's operators and blank rules."""

    attribute = serializers.CharField(help_text="A lead attribute, e.g. country, company_size.")
    operator = serializers.CharField(help_text="An operator of the agreement's criteria.")
    value = serializers.JSONField(
        required=False, allow_null=True, help_text="A list, a number, two numbers or null."
    )
    blank_passes = serializers.BooleanField(required=False, default=False)


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


class DashboardSerializer(serializers.Serializer):
    funnel = serializers.DictField(help_text="Stages reached, conversion, side exits.")
    speed_to_lead = serializers.DictField(help_text="Median and p90 timings, distribution.")
    team = serializers.ListField(child=serializers.DictField(), help_text="Per rep.")
    scores = serializers.ListField(child=serializers.DictField(), help_text="Per version.")
