"""The REST API's resources. No business rule lives here: reads are the selectors of the
app that owns the rows, writes are its services, validated by the portal's own forms, and
each lead move is a row of `leads/inbox/actions.py`'s table, with the page's checks in the
page's order (role, visibility, this person, the lifecycle)."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from leads.capture.builder.builder_forms import FormSettingsForm
from leads.capture.models import Form
from leads.capture.services import FORM_SETTINGS, form_create, form_update
from leads.inbox.actions import ACTIONS, Action
from leads.inbox.selectors import leads_visible_to
from leads.models import Lead, LeadEvent, Stage, Submission
from leads.routing.forms import QueueForm, value_text
from leads.routing.models import Queue, QueueMember
from leads.routing.services import QUEUE_SETTINGS, queue_save
from portal.dashboard.forms import DashboardFilterForm, filters_from
from portal.dashboard.selectors import funnel, score_distribution, speed_to_lead, team
from portal.errors import InvalidFields, PermissionDenied
from portal.integrations.api import serializers as s
from portal.integrations.api.authentication import ApiTokenAuthentication
from portal.integrations.api.forms_io import cleaned_or_refused, form_data, serializer_for
from portal.integrations.api.pagination import Cursor, FeedCursor
from portal.integrations.api.permissions import HasPerms, WritesNeedAWritingToken
from portal.integrations.api.schema import errors_for
from portal.integrations.api.selectors import lead_events_visible_to, submissions_visible_to
from portal.integrations.api.throttling import ApiRateThrottle
from scoring.models import Agreement
from scoring.selectors import agreement_versions
from scoring.services import (
    DRAFT,
    agreement_draft_from,
    agreement_draft_new,
    agreement_propose,
    agreement_send_back,
    agreement_sign,
)


class ApiMixin:
    # Authentication, permissions, throttling and pagination shared by every resource (no
    # docstring: the schema would show it on every operation). `perms` maps a viewset action
    # (or "read" for the safe ones) to the permissions it needs.

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, WritesNeedAWritingToken, HasPerms]
    throttle_classes = [ApiRateThrottle]
    pagination_class = Cursor
    perms: dict[str, tuple[str, ...]] = {}

    def required_perms(self, request) -> tuple[str, ...]:
        name = getattr(self, "action", None) or request.method.lower()
        if name in self.perms:
            return self.perms[name]
        return self.perms.get("read", ()) if request.method in ("GET", "HEAD", "OPTIONS") else ()


# Forms


@extend_schema_view(
    list=extend_schema(summary="Forms", responses=errors_for(s.FormSerializer(many=True))),
    retrieve=extend_schema(summary="A form", responses=errors_for(s.FormSerializer)),
    create=extend_schema(
        summary="Create a draft form (marketing)",
        request=serializer_for(FormSettingsForm, "FormSettings"),
        responses=errors_for(s.FormSerializer, status.HTTP_201_CREATED),
    ),
    partial_update=extend_schema(
        summary="Change a form's settings (marketing)",
        request=serializer_for(FormSettingsForm, "FormSettingsPatch"),
        responses=errors_for(s.FormSerializer),
    ),
)
class FormViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The form builder's forms: read by marketing and the sales managers; created and
    changed by marketing. Fields and publishing stay in the builder."""

    serializer_class = s.FormSerializer
    queryset = Form.objects.select_related("current_version")
    http_method_names = ["get", "post", "patch", "head", "options"]
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_fields = ["status"]
    ordering_fields = ["id", "name", "created_at"]
    ordering = ["-id"]
    perms = {
        "read": ("capture.view_form",),
        "create": ("capture.add_form",),
        "partial_update": ("capture.change_form",),
    }

    def create(self, request, *args, **kwargs):
        # What the body leaves out is the model's default, as on the page's blank form.
        bound = FormSettingsForm(_settings_with(Form(), FORM_SETTINGS, request.data))
        form = form_create(by=request.user, **cleaned_or_refused(bound))
        return Response(s.FormSerializer(form).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        form = self.get_object()
        bound = FormSettingsForm(_settings_with(form, FORM_SETTINGS, request.data), instance=form)
        form = form_update(form=form, **cleaned_or_refused(bound))
        return Response(s.FormSerializer(form).data)


def _settings_with(instance, names, data) -> dict:
    """A PATCH (or a create) as the whole form the page would post: what the body does not
    say stays as it is."""
    return {**{name: getattr(instance, name) for name in names}, **form_data(data)}


# Submissions


class SubmissionFilter(filters.FilterSet):
    received_after = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Submission
        fields = ["form", "lead"]


@extend_schema_view(
    list=extend_schema(
        summary="Submissions of the leads you see",
        responses=errors_for(s.SubmissionSerializer(many=True)),
    ),
    retrieve=extend_schema(summary="A submission", responses=errors_for(s.SubmissionSerializer)),
)
class SubmissionViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Each post a form took, as received, on the leads you may see."""

    serializer_class = s.SubmissionSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = SubmissionFilter
    ordering_fields = ["id", "received_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return submissions_visible_to(user=self.request.user)


# Leads


class LeadFilter(filters.FilterSet):
    stage = filters.MultipleChoiceFilter(choices=Stage.choices)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    changed_after = filters.IsoDateTimeFilter(field_name="stage_changed_at", lookup_expr="gte")
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")

    class Meta:
        model = Lead
        fields = ["stage", "queue", "source_form", "owner", "campaign"]


@extend_schema_view(
    list=extend_schema(
        summary="The leads you may see (a rep: their own)",
        responses=errors_for(s.LeadSerializer(many=True)),
    ),
    retrieve=extend_schema(summary="A lead", responses=errors_for(s.LeadSerializer)),
)
class LeadViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """The leads you may see: every lead for those who see them all, a rep's own for a
    rep. Moves are POSTs to /api/v1/leads/{id}/<move>/."""

    serializer_class = s.LeadSerializer
    filter_backends = [filters.DjangoFilterBackend, OrderingFilter]
    filterset_class = LeadFilter
    ordering_fields = ["id", "created_at", "stage_changed_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return leads_visible_to(user=self.request.user)


class LeadMoveView(ApiMixin, APIView):
    """One move of the inbox's table on one lead: the same checks, form and service as the
    lead page's button. 409 when the lifecycle no longer allows it."""

    move: Action

    def post(self, request, pk: int):
        move = self.move
        if not any(request.user.has_perm(perm) for perm in move.perms):
            raise PermissionDenied("Your role does not include this.")
        lead = get_object_or_404(leads_visible_to(user=request.user), pk=pk)
        if not move.may(user=request.user, lead=lead):
            raise PermissionDenied(f"You may not do this to lead {lead.pk}.")
        if move.offered(lead=lead, user=request.user) is None:
            raise move.refusal(lead)
        cleaned = cleaned_or_refused(move.form(form_data(request.data), lead=lead))
        move.do(lead=lead, by=request.user, **cleaned)
        # As the move left it, also when it sent the lead away from this person (a reject).
        lead.refresh_from_db()
        return Response(s.LeadSerializer(lead).data)


def lead_move_view(move: Action):
    """The view of one row of the table, with its own request body in the schema."""
    name = "".join(part.title() for part in move.name.split("_"))
    body = serializer_for(move.form, f"Lead{name}Request")

    @extend_schema(
        summary=f"{move.label} ({move.name})",
        description=move.help,
        request=body,
        responses=errors_for(s.LeadSerializer, conflict=True),
        operation_id=f"leads_{move.name}",
        tags=["leads"],
    )
    def post(self, request, pk: int):
        return LeadMoveView.post(self, request, pk)

    view = type(f"Lead{name}View", (LeadMoveView,), {"move": move, "post": post})
    return view.as_view()


MOVE_VIEWS = {name: lead_move_view(move) for name, move in ACTIONS.items()}


# Lead events


class LeadEventFilter(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=LeadEvent.Kind.choices)

    class Meta:
        model = LeadEvent
        fields = ["lead", "kind"]


@extend_schema_view(
    list=extend_schema(
        summary="The feed of lead events, oldest first (follow `next`)",
        responses=errors_for(s.LeadEventSerializer(many=True)),
    ),
    retrieve=extend_schema(summary="A lead event", responses=errors_for(s.LeadEventSerializer)),
)
class LeadEventViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    """Every lead event you may see, oldest first: follow `next` to read what is new."""

    serializer_class = s.LeadEventSerializer
    pagination_class = FeedCursor
    filter_backends = [filters.DjangoFilterBackend]
    filterset_class = LeadEventFilter

    def get_queryset(self):
        return lead_events_visible_to(user=self.request.user)


# Agreements


@extend_schema_view(
    list=extend_schema(
        summary="Every agreement version, newest first",
        responses=errors_for(s.AgreementSerializer(many=True)),
    ),
    retrieve=extend_schema(summary="One version", responses=errors_for(s.AgreementSerializer)),
    create=extend_schema(
        summary="A new empty draft (managers)",
        request=s.AgreementDraftSerializer,
        responses=errors_for(s.AgreementSerializer, status.HTTP_201_CREATED),
    ),
)
class AgreementViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The agreement's versions (the main one and each scope's), with their criteria."""

    serializer_class = s.AgreementSerializer
    lookup_field = "version"
    lookup_value_regex = r"\d+"
    ordering = ["-version"]
    perms = {"create": (DRAFT,), "draft": (DRAFT,), "propose": (DRAFT,), "send_back": (DRAFT,)}

    def get_queryset(self):
        return agreement_versions().prefetch_related("criteria")

    def get_object(self) -> Agreement:
        return get_object_or_404(self.get_queryset(), version=self.kwargs["version"])

    def create(self, request, *args, **kwargs):
        body = _valid(s.AgreementDraftSerializer, request)
        draft = agreement_draft_new(by=request.user, scope_name=body.get("scope_name", ""))
        return self._answer(draft, status.HTTP_201_CREATED)

    @extend_schema(
        summary="A new draft from this version (managers)",
        request=None,
        responses=errors_for(s.AgreementSerializer, status.HTTP_201_CREATED),
    )
    @action(detail=True, methods=["post"])
    def draft(self, request, version: int):
        draft = agreement_draft_from(agreement=self.get_object(), by=request.user)
        return self._answer(draft, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Propose this draft: it freezes (managers)",
        request=None,
        responses=errors_for(s.AgreementSerializer, conflict=True),
    )
    @action(detail=True, methods=["post"])
    def propose(self, request, version: int):
        return self._answer(agreement_propose(agreement=self.get_object(), by=request.user))

    @extend_schema(
        summary="Sign this proposal for your side (its manager)",
        request=s.SignSerializer,
        responses=errors_for(s.AgreementSerializer, conflict=True),
    )
    @action(detail=True, methods=["post"])
    def sign(self, request, version: int):
        side = _valid(s.SignSerializer, request)["side"]
        signed = agreement_sign(agreement=self.get_object(), by=request.user, side=side)
        return self._answer(signed)

    @extend_schema(
        summary="Send this proposal back to draft, saying why (managers)",
        request=s.SendBackSerializer,
        responses=errors_for(s.AgreementSerializer, conflict=True),
    )
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, version: int):
        comment = _valid(s.SendBackSerializer, request)["comment"]
        back = agreement_send_back(agreement=self.get_object(), by=request.user, comment=comment)
        return self._answer(back)

    def _answer(self, agreement: Agreement, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=agreement.pk)
        return Response(s.AgreementSerializer(fresh).data, status=code)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Queues


QUEUE_REQUEST = type(
    "QueueSettings",
    (serializer_for(QueueForm, "QueueFormFields"),),
    {
        "conditions": s.QueueConditionSerializer(
            many=True, required=False, help_text="All must hold; none: the queue takes every lead."
        ),
        "weights": serializers.DictField(
            child=serializers.IntegerField(min_value=1, max_value=100),
            required=False,
            help_text="Weighted queues: each rep's share, by rep id.",
        ),
        "open_caps": serializers.DictField(
            child=serializers.IntegerField(min_value=0, allow_null=True),
            required=False,
            help_text="Each rep's own cap of open leads, by rep id; null: the queue's.",
        ),
        "daily_caps": serializers.DictField(
            child=serializers.IntegerField(min_value=0, allow_null=True),
            required=False,
            help_text="Each rep's own cap of leads a day, by rep id; null: the queue's.",
        ),
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="Routing queues and their reps (sales managers)",
        responses=errors_for(s.QueueSerializer(many=True)),
    ),
    retrieve=extend_schema(summary="A queue", responses=errors_for(s.QueueSerializer)),
    create=extend_schema(
        summary="A new queue",
        request=QUEUE_REQUEST,
        responses=errors_for(s.QueueSerializer, status.HTTP_201_CREATED),
    ),
    partial_update=extend_schema(
        summary="Change a queue's settings or reps",
        request=QUEUE_REQUEST,
        responses=errors_for(s.QueueSerializer),
    ),
)
class QueueViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The routing queues and the reps who work them, for the sales managers."""

    serializer_class = s.QueueSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    ordering = ["priority", "id"]
    pagination_class = Cursor
    perms = {
        "read": ("routing.view_queue",),
        "create": ("routing.add_queue",),
        "partial_update": ("routing.change_queue",),
    }

    def get_queryset(self):
        members = QueueMember.objects.select_related("rep").order_by("position")
        return Queue.objects.prefetch_related(Prefetch("members", queryset=members))

    def create(self, request, *args, **kwargs):
        queue = self._saved(Queue(), {})
        return Response(s.QueueSerializer(queue).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        queue = self.get_object()
        current = {name: getattr(queue, name) for name in QUEUE_SETTINGS}
        current["manager"] = queue.manager_id
        current["members"] = [member.rep_id for member in queue.members.all()]
        for member in queue.members.all():  # a rep's own caps stay unless sent
            current[f"open_cap_{member.rep_id}"] = member.open_cap
            current[f"daily_cap_{member.rep_id}"] = member.daily_cap
        return Response(s.QueueSerializer(self._saved(queue, current)).data)

    def _saved(self, queue: Queue, current: dict) -> Queue:
        data = {**current, **form_data(self.request.data)}
        data.update(_condition_rows(data.pop("conditions", None) or []))
        for name, field in (
            ("weights", "weight"),
            ("open_caps", "open_cap"),
            ("daily_caps", "daily_cap"),
        ):
            by_rep = data.pop(name, None) or {}
            if not isinstance(by_rep, dict):
                raise InvalidFields({name: [{"message": _BY_REP, "code": "invalid"}]})
            data.update({f"{field}_{rep}": value for rep, value in by_rep.items()})
        bound = QueueForm(data, instance=queue)
        try:
            cleaned = cleaned_or_refused(bound)
        except InvalidFields as refused:
            raise InvalidFields(_as_condition_errors(refused.errors)) from None
        saved = queue_save(
            queue=bound.save(commit=False),
            reps=cleaned["members"],
            weights=bound.weights(),
            caps=bound.member_caps(),
        )
        return self.get_queryset().get(pk=saved.pk)


_CONDITIONS = "A list of conditions, each {attribute, operator, value, blank_passes}."
_BY_REP = 'An object of a value for each rep, by rep id, e.g. {"12": 2}.'


def _condition_rows(conditions) -> dict:
    """The queue page's condition rows from the API's list of conditions."""
    if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
        raise InvalidFields({"conditions": [{"message": _CONDITIONS, "code": "invalid"}]})
    rows = {}
    for i, condition in enumerate(conditions):
        rows[f"condition_{i}_attribute"] = str(condition.get("attribute") or "")
        rows[f"condition_{i}_operator"] = str(condition.get("operator") or "one_of")
        rows[f"condition_{i}_value"] = value_text(condition.get("value"))
        rows[f"condition_{i}_blank_passes"] = bool(condition.get("blank_passes"))
    return rows


def _as_condition_errors(errors: dict) -> dict:
    """The page's row fields (condition_0_value) as the API names them (conditions[0].value)."""
    named = {}
    for field, problems in errors.items():
        row, _, part = field.removeprefix("condition_").partition("_")
        if field.startswith("condition_") and row.isdigit():
            field = f"conditions[{row}].{part}"
        named[field] = problems
    return named


# The dashboard


class DashboardView(ApiMixin, APIView):
    """The dashboard's panels as numbers."""

    perms = {"get": ("leads.view_dashboard",)}

    @extend_schema(
        summary="The dashboard's figures, for the same filters as the page",
        parameters=[serializer_for(DashboardFilterForm, "DashboardFilters")],
        responses=errors_for(s.DashboardSerializer),
    )
    def get(self, request):
        form = DashboardFilterForm(request.query_params)
        cleaned_or_refused(form)
        chosen = filters_from(form, today=timezone.localdate())
        return Response(
            {
                "funnel": funnel(filters=chosen),
                "speed_to_lead": speed_to_lead(filters=chosen),
                "team": team(filters=chosen),
                "scores": score_distribution(filters=chosen),
            }
        )
