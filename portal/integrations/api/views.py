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
from leads.capture.services import FORM_SETTINGS, form_create, form_update, normalise_email
from leads.inbox.actions import ACTIONS, Action
from leads.inbox.forms import NONE_FITS
from leads.inbox.selectors import leads_visible_to
from leads.models import Lead, LeadEvent, Stage, Submission
from leads.routing.forms import QueueForm, value_text
from leads.routing.models import Queue, QueueMember
from leads.routing.services import QUEUE_SETTINGS, queue_save
from portal.dashboard.forms import DashboardFilterForm, filters_from
from portal.dashboard.tables import figures_kept
from portal.errors import InvalidFields, PermissionDenied
from portal.integrations.api import serializers as s
from portal.integrations.api.authentication import ApiTokenAuthentication
from portal.integrations.api.forms_io import cleaned_or_refused, form_data, serializer_for
from portal.integrations.api.pagination import Cursor, FeedCursor
from portal.integrations.api.permissions import HasPerms, WritesNeedAWritingToken
from portal.integrations.api.schema import errors_for
from portal.integrations.api.selectors import (
    lead_events_visible_to,
    lead_rows_for_api,
    leads_for_api,
    submissions_visible_to,
)
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


class FilterBackend(filters.DjangoFilterBackend):
    """django-filter's, without its form when the query names none of the filters: the form
    (a deep copy of every filter and its field) cost an unfiltered page a tenth of its CPU,
    and with nothing to filter it gives back the queryset as it was. A parameter counts as
    naming a filter when it starts with the filter's name (a range's `_min`, `_after`)."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            param.startswith(name)
            for param in request.query_params
            for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)


class ReadViewSet(
    ApiMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    # A resource listed (filtered, ordered, by cursor) and read one by one.
    filter_backends = [FilterBackend, OrderingFilter]


class WriteViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, ReadViewSet):
    # Also made (POST) and changed (PATCH) through the page's own form and service: `saved`
    # takes a new (unsaved) or current object and the body, and returns it saved.
    http_method_names = ["get", "post", "patch", "head", "options"]

    def saved(self, instance, data: dict):
        raise NotImplementedError

    def create(self, request, *args, **kwargs):
        made = self.saved(self.get_queryset().model(), form_data(request.data))
        return Response(self._fresh(made), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        return Response(self._fresh(self.saved(self.get_object(), form_data(request.data))))

    def _fresh(self, instance) -> dict:
        return self.get_serializer(self.get_queryset().get(pk=instance.pk)).data


def described(
    serializer,
    *,
    many: str,
    one: str,
    create: tuple[str, type] | None = None,
    patch: tuple[str, type] | None = None,
):
    """A resource's operations in the schema: each answer with the error answers, and the
    request bodies of its writes (`(summary, serializer)`)."""
    views = {
        "list": extend_schema(summary=many, responses=errors_for(serializer(many=True))),
        "retrieve": extend_schema(summary=one, responses=errors_for(serializer)),
    }
    if create:
        views["create"] = extend_schema(
            summary=create[0],
            request=create[1],
            responses=errors_for(serializer, status.HTTP_201_CREATED),
        )
    if patch:
        views["partial_update"] = extend_schema(
            summary=patch[0], request=patch[1], responses=errors_for(serializer)
        )
    return extend_schema_view(**views)


def _settings_with(instance, names, data: dict) -> dict:
    """A PATCH (or a create) as the whole form the page would post: what the body does not
    say stays as it is (on a create: the model's default, as on the page's blank form)."""
    return {**{name: getattr(instance, name) for name in names}, **data}


# Forms


@described(
    s.FormSerializer,
    many="Forms",
    one="A form",
    create=("Create a draft form (marketing)", serializer_for(FormSettingsForm, "FormSettings")),
    patch=(
        "Change a form's settings (marketing)",
        serializer_for(FormSettingsForm, "FormSettingsPatch", partial=True),
    ),
)
class FormViewSet(WriteViewSet):
    """The form builder's forms: read by marketing and the sales managers; created and
    changed by marketing. Fields and publishing stay in the builder."""

    serializer_class = s.FormSerializer
    queryset = Form.objects.select_related("current_version")
    filterset_fields = ["status"]
    ordering_fields = ["id", "name", "created_at"]
    ordering = ["-id"]
    perms = {
        "read": ("capture.view_form",),
        "create": ("capture.add_form",),
        "partial_update": ("capture.change_form",),
    }

    def saved(self, form: Form, data: dict) -> Form:
        bound = FormSettingsForm(
            _settings_with(form, FORM_SETTINGS, data), instance=form if form.pk else None
        )
        if form.pk:
            return form_update(form=form, **cleaned_or_refused(bound))
        return form_create(by=self.request.user, **cleaned_or_refused(bound))


# Submissions


class SubmissionFilter(filters.FilterSet):
    received_after = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = Submission
        fields = ["form", "lead"]


@described(s.SubmissionSerializer, many="Submissions of the leads you see", one="A submission")
class SubmissionViewSet(ReadViewSet):
    """Each post a form took, as received, on the leads you may see."""

    serializer_class = s.SubmissionSerializer
    filterset_class = SubmissionFilter
    ordering_fields = ["id", "received_at"]
    ordering = ["-id"]

    def get_queryset(self):
        return submissions_visible_to(user=self.request.user)


# Leads


class LeadFilter(filters.FilterSet):
    # distinct=False: no join here to repeat a lead, and DISTINCT made PostgreSQL sort every
    # lead of the stage (36 ms at 1,000,000 leads) instead of reading the first 51 by id.
    stage = filters.MultipleChoiceFilter(choices=Stage.choices, distinct=False)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    changed_after = filters.IsoDateTimeFilter(field_name="stage_changed_at", lookup_expr="gte")
    email = filters.CharFilter(
        method="normalised_email",
        help_text="As a lead is known by it: any case, and a +tag when those are folded.",
    )

    class Meta:
        model = Lead
        fields = ["stage", "queue", "source_form", "owner", "campaign"]

    def normalised_email(self, queryset, name: str, value: str):
        # As capture stores it, so the unique index finds it (iexact's UPPER() reads every lead).
        return queryset.filter(email=normalise_email(value))


@described(s.LeadSerializer, many="The leads you may see (a rep: their own)", one="A lead")
class LeadViewSet(ReadViewSet):
    """The leads you may see: every lead for those who see them all, a rep's own for a
    rep. Moves are POSTs to /api/v1/leads/{id}/<move>/."""

    serializer_class = s.LeadSerializer
    filterset_class = LeadFilter
    ordering_fields = ["id", "created_at", "stage_changed_at"]
    ordering = ["-id"]

    def get_queryset(self):
        if self.action == "list":
            return lead_rows_for_api(user=self.request.user, columns=s.LEAD_ROW_COLUMNS)
        return leads_for_api(user=self.request.user, fields=s.LeadSerializer.Meta.fields)


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


# What a move's form fills in per lead, described here.
MOVE_FIELDS = {
    "flag": {
        "criterion": serializers.RegexField(
            rf"^([0-9]+|{NONE_FITS})$",
            help_text="The id of a criterion the lead passed (the criteria of the agreement "
            f'version that judged it: /api/v1/agreements/{{version}}/), or "{NONE_FITS}": none '
            "fits, the agreement lacks the rule that would have kept it out.",
        )
    }
}


def lead_move_view(move: Action):
    """The view of one row of the table, with its own request body in the schema."""
    name = "".join(part.title() for part in move.name.split("_"))
    body = serializer_for(move.form, f"Lead{name}Request", **MOVE_FIELDS.get(move.name, {}))

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
    kind = filters.MultipleChoiceFilter(choices=LeadEvent.Kind.choices, distinct=False)

    class Meta:
        model = LeadEvent
        fields = ["lead", "kind"]


@described(
    s.LeadEventSerializer,
    many="The feed of lead events, oldest first (follow `next`)",
    one="A lead event",
)
class LeadEventViewSet(ReadViewSet):
    """Every lead event you may see, oldest first: follow `next` to read what is new."""

    serializer_class = s.LeadEventSerializer
    pagination_class = FeedCursor
    filter_backends = [FilterBackend]
    filterset_class = LeadEventFilter

    def get_queryset(self):
        return lead_events_visible_to(user=self.request.user)


# Agreements


@described(
    s.AgreementSerializer,
    many="Every agreement version, newest first",
    one="One version",
    create=("A new empty draft (managers)", s.AgreementDraftSerializer),
)
class AgreementViewSet(mixins.CreateModelMixin, ReadViewSet):
    """The agreement's versions (the main one and each scope's), with their criteria."""

    serializer_class = s.AgreementSerializer
    filter_backends = []
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


# The queue page's inputs, with its condition rows and each rep's weight and own caps as the
# API takes them.
_QUEUE_DECLARED = {
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
}
# QueueForm makes these optional when it is made: left out, they stay as they are.
_QUEUE_OPTIONAL = ("remind_percent", "max_reassignments", "strategy")


@described(
    s.QueueSerializer,
    many="Routing queues and their reps (sales managers)",
    one="A queue",
    create=(
        "A new queue",
        serializer_for(QueueForm, "QueueSettings", optional=_QUEUE_OPTIONAL, **_QUEUE_DECLARED),
    ),
    patch=(
        "Change a queue's settings or reps",
        serializer_for(QueueForm, "QueueSettingsPatch", partial=True, **_QUEUE_DECLARED),
    ),
)
class QueueViewSet(WriteViewSet):
    """The routing queues and the reps who work them, for the sales managers."""

    serializer_class = s.QueueSerializer
    filter_backends = []
    ordering = ["priority", "id"]
    perms = {
        "read": ("routing.view_queue",),
        "create": ("routing.add_queue",),
        "partial_update": ("routing.change_queue",),
    }

    def get_queryset(self):
        members = QueueMember.objects.select_related("rep").order_by("position")
        return Queue.objects.prefetch_related(Prefetch("members", queryset=members))

    def saved(self, queue: Queue, data: dict) -> Queue:
        current = {}
        if queue.pk:
            current = _settings_with(queue, QUEUE_SETTINGS, {})
            current["manager"] = queue.manager_id
            current["members"] = [member.rep_id for member in queue.members.all()]
            for member in queue.members.all():  # a rep's own caps stay unless sent
                current[f"open_cap_{member.rep_id}"] = member.open_cap
                current[f"daily_cap_{member.rep_id}"] = member.daily_cap
        data = {**current, **data}
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
        return queue_save(
            queue=bound.save(commit=False),
            reps=cleaned["members"],
            weights=bound.weights(),
            caps=bound.member_caps(),
        )


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
    """The dashboard's panels as numbers: the figures the page shows (kept for
    DASHBOARD_FIGURES_SECONDS), with the time they were computed."""

    perms = {"get": ("leads.view_dashboard",)}

    @extend_schema(
        summary="The dashboard's figures, for the same filters as the page",
        parameters=[
            serializer_for(
                DashboardFilterForm,
                "DashboardFilters",
                campaign=serializers.CharField(
                    required=False,
                    allow_blank=True,
                    help_text="One of the leads' campaigns (the page's menu); blank: any.",
                ),
            )
        ],
        responses=errors_for(s.DashboardSerializer),
    )
    def get(self, request):
        form = DashboardFilterForm(request.query_params)
        cleaned_or_refused(form)
        # The page's kept copy, not a count of its own: both teams read the same numbers, and
        # the same "as of" time (the page's Refresh computes them again, for both).
        figures = figures_kept(filters_from(form, today=timezone.localdate()))
        return Response(s.DashboardSerializer({**figures.numbers, "as_of": figures.at}).data)
