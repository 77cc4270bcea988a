"""The agreed definition of a qualified lead, versioned, and each lead's judgement by it."""

import datetime
from collections.abc import Iterable

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from leads import locks
from portal.errors import Conflict
from scoring import engine, explain, service_levels

# A version is proposed (frozen) from `proposed_at` on; from then on its terms and criteria
# never change (house rule 6). Only the lifecycle services write to it, and only these
# fields: a missing signature, the activation and the retirement, or (sending a proposal
# back) the proposal and its signatures cleared together.
SIGNATURE_FIELDS = frozenset(
    {
        "sales_signed_by",
        "sales_signed_at",
        "marketing_signed_by",
        "marketing_signed_at",
        "activated_at",
    }
)
PROPOSAL_FIELDS = frozenset({"proposed_by", "proposed_at"})
LIFECYCLE_FIELDS = SIGNATURE_FIELDS | PROPOSAL_FIELDS | {"retired_at"}


class ProposedAgreementChange(Conflict):
    """Someone tried to change a version once it was proposed: an edit is a new draft."""

    code = "agreement_proposed"

    def __init__(self, agreement: "Agreement"):
        super().__init__(
            f"{agreement} is proposed and can no longer change; send it back to draft, or "
            "make a new draft from it and edit that."
        )


def _locked_unless_proposed(agreement_ids: Iterable[int]) -> list["Agreement"]:
    """Lock these agreements for the write that follows, or refuse if one is signed.

    The signature takes the same lock, so an edit and a signature never cross: the edit
    lands before the signature, or the signature wins and the edit is refused.
    """
    agreements = locks.rows_locked(Agreement, {pk for pk in agreement_ids if pk is not None})
    for agreement in agreements:
        if agreement.is_proposed:
            raise ProposedAgreementChange(agreement)
    return agreements


MAIN_SCOPE = "Main agreement"


class AgreementScope(models.Model):
    """One line of agreement versions: the forms of one product or one sales team.

    Exactly one version per scope is active at a time; activating one retires the one before
    it in the same scope only. Which forms a version covers is part of its (signed) text.
    """

    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name


def main_scope_id() -> int:
    """The scope a version is in unless it says otherwise (every version made before scopes)."""
    return AgreementScope.objects.get_or_create(name=MAIN_SCOPE)[0].pk


def _weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


# The querysets guard their bulk writes too (update, bulk_update, delete, bulk_create):
# nothing in the code uses them on these tables, but a signed version must not change by a
# path that skips save(). Not seen here: a user's deletion setting created_by to NULL.
class AgreementQuerySet(models.QuerySet):
    def active(self) -> "Agreement | None":
        return (
            self.filter(activated_at__isnull=False, retired_at__isnull=True)
            .order_by("-activated_at")
            .first()
        )

    def active_versions(self) -> "AgreementQuerySet":
        """The active version of every scope (one each)."""
        return self.filter(activated_at__isnull=False, retired_at__isnull=True)

    @transaction.atomic
    def update(self, **kwargs) -> int:
        _locked_unless_proposed(self.values_list("pk", flat=True))
        return super().update(**kwargs)

    @transaction.atomic
    def delete(self):
        _locked_unless_proposed(self.values_list("pk", flat=True))
        return super().delete()


class Agreement(models.Model):
    class Side(models.TextChoices):
        SALES = "sales", "Sales"
        MARKETING = "marketing", "Marketing"

    version = models.PositiveIntegerField(unique=True)
    summary = models.TextField(blank=True)
    threshold = models.IntegerField(default=0, help_text="Points a lead needs to qualify.")
    accept_within_minutes = models.PositiveIntegerField(
        default=240, help_text="SLA: a routed lead must be accepted or rejected within this."
    )
    contact_within_hours = models.PositiveIntegerField(
        default=24,
        help_text="SLA: an accepted lead must be first contacted within this many working hours.",
    )
    business_days = models.JSONField(
        default=_weekdays, help_text="The sales team's working days, 0 = Monday … 6 = Sunday."
    )
    business_opens = models.TimeField(default=datetime.time(9))
    business_closes = models.TimeField(default=datetime.time(17))
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        help_text="The sales team's time zone: service levels count its working hours.",
    )
    holidays = models.JSONField(
        default=list,
        blank=True,
        help_text="Days off (YYYY-MM-DD, local dates): no working hours on them.",
    )
    scope = models.ForeignKey(
        AgreementScope, default=main_scope_id, on_delete=models.PROTECT, related_name="versions"
    )
    form_ids = models.JSONField(
        default=list,
        blank=True,
        help_text="The forms it judges, by id; none listed: every form no other active "
        "version lists.",
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version active in its scope when this one was drafted: the only one it "
        "may replace.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(null=True, blank=True)
    sales_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sales_signed_at = models.DateTimeField(null=True, blank=True)
    marketing_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marketing_signed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        permissions = [
            ("sign_for_sales", "Can sign an agreement for sales"),
            ("sign_for_marketing", "Can sign an agreement for marketing"),
            ("draft_agreement", "Can draft, propose and send back agreements"),
        ]
        constraints = [
            # Both teams agree: one person signing both sides is no agreement.
            models.CheckConstraint(
                condition=~models.Q(sales_signed_by=models.F("marketing_signed_by")),
                name="agreement_signed_by_two_people",
            )
        ]

    def __str__(self) -> str:
        return f"Agreement v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is None:
            return super().save(*args, **kwargs)
        with transaction.atomic():
            self._refuse_change_once_proposed(kwargs.get("update_fields"))
            return super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("scoring:version", kwargs={"version": self.version})

    @transaction.atomic
    def delete(self, *args, **kwargs):
        _locked_unless_proposed([self.pk])
        return super().delete(*args, **kwargs)

    def _refuse_change_once_proposed(self, update_fields) -> None:
        """Once proposed, a save may only fill in a lifecycle field, or send the proposal back."""
        stored = locks.rows_locked(Agreement, [self.pk])
        if not stored or not stored[0].is_proposed:  # not saved yet, or still a draft
            return
        stored = stored[0]
        fields = set(update_fields or ())
        if update_fields is None or not fields <= LIFECYCLE_FIELDS:
            raise ProposedAgreementChange(self)
        if fields >= LIFECYCLE_FIELDS - {"retired_at"} and self._sent_back_from(stored):
            return
        if any(stored.serializable_value(name) is not None for name in fields):
            raise ProposedAgreementChange(self)

    def _sent_back_from(self, stored: "Agreement") -> bool:
        """Back to draft: allowed until active, and only with every signature cleared."""
        cleared = all(
            self.serializable_value(name) is None for name in LIFECYCLE_FIELDS - {"retired_at"}
        )
        return cleared and stored.activated_at is None

    @property
    def is_proposed(self) -> bool:
        return self.proposed_at is not None

    @property
    def status(self) -> str:
        if self.retired_at is not None:
            return "retired"
        if self.activated_at is not None:
            return "active"
        if self.proposed_at is not None:
            return "proposed"
        return "draft"

    def signed_for(self, side: str) -> bool:
        return getattr(self, f"{side}_signed_at") is not None

    @property
    def covers_every_other_form(self) -> bool:
        return not self.form_ids

    def business_hours(self) -> service_levels.BusinessHours:
        return service_levels.BusinessHours(
            frozenset(self.business_days),
            self.business_opens,
            self.business_closes,
            self.time_zone,
            frozenset(datetime.date.fromisoformat(day) for day in self.holidays),
        )

    def rules(self) -> list[engine.Rule]:
        return [criterion.as_rule() for criterion in self.criteria.all()]

    def compiled(self, *, blanks=()) -> engine.CompiledAgreement:
        """This version as one function, to judge many leads (the what-if, re-scoring)."""
        return engine.compile_agreement(self.rules(), self.threshold, blanks=blanks)

    def terms(self) -> explain.Terms:
        return explain.Terms(
            version=self.version,
            summary=self.summary,
            threshold=self.threshold,
            accept_within_minutes=self.accept_within_minutes,
            contact_within_hours=self.contact_within_hours,
            rules=tuple(self.rules()),
            business_hours=self.business_hours().describe(),
            forms=self.form_ids_words(),
        )

    def form_ids_words(self) -> str:
        """The forms it covers, by name; the form model belongs to capture, read by name."""
        if not self.form_ids:
            return "every form no other active version lists"
        form_model = apps.get_model("capture", "Form")
        names = form_model.objects.filter(pk__in=self.form_ids).order_by("name")
        return ", ".join(names.values_list("name", flat=True)) or "no form that still exists"


def _agreement_ids_of(criteria: "Iterable[Criterion]") -> set[int]:
    """The agreements of these criteria, as given and as stored (a criterion may move)."""
    criteria = list(criteria)
    saved = [criterion.pk for criterion in criteria if criterion.pk is not None]
    stored = Criterion.objects.filter(pk__in=saved).values_list("agreement_id", flat=True)
    return {criterion.agreement_id for criterion in criteria} | set(stored)


class CriterionQuerySet(models.QuerySet):
    @transaction.atomic
    def update(self, **kwargs) -> int:
        _locked_unless_proposed(self.values_list("agreement_id", flat=True))
        return super().update(**kwargs)

    @transaction.atomic
    def delete(self):
        _locked_unless_proposed(self.values_list("agreement_id", flat=True))
        return super().delete()

    @transaction.atomic
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        _locked_unless_proposed(_agreement_ids_of(objs))
        return super().bulk_create(objs, *args, **kwargs)

    @transaction.atomic
    def bulk_update(self, objs, *args, **kwargs):
        objs = list(objs)
        _locked_unless_proposed(_agreement_ids_of(objs))
        return super().bulk_update(objs, *args, **kwargs)


class Criterion(models.Model):
    class Kind(models.TextChoices):
        MANDATORY = engine.MANDATORY, "Mandatory (must pass)"
        SCORING = engine.SCORING, "Scoring (adds points)"

    # The engine's operators, by the names stored in `operator`.
    Operator = models.TextChoices(
        "Operator", [(name.upper(), (name, words)) for name, (_, words) in engine.OPERATORS.items()]
    )

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="criteria")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    attribute = models.SlugField(max_length=64)
    operator = models.CharField(max_length=16, choices=Operator.choices)
    value = models.JSONField(null=True, blank=True)
    points = models.IntegerField(default=0)
    blank_passes = models.BooleanField(
        default=False,
        help_text="Whether a lead that left this blank (or sent a placeholder) passes it.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    objects = CriterionQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    @transaction.atomic
    def save(self, *args, **kwargs):
        _locked_unless_proposed(_agreement_ids_of([self]))
        super().save(*args, **kwargs)

    @transaction.atomic
    def delete(self, *args, **kwargs):
        _locked_unless_proposed(_agreement_ids_of([self]))
        return super().delete(*args, **kwargs)

    @property
    def is_mandatory(self) -> bool:
        return self.kind == self.Kind.MANDATORY

    def as_rule(self) -> engine.Rule:
        return engine.Rule(
            id=self.pk,
            kind=self.kind,
            attribute=self.attribute,
            operator=self.operator,
            value=self.value,
            points=self.points,
            label=self.label,
            blank_passes=self.blank_passes,
        )


class AgreementComment(models.Model):
    """What a manager said about a version, above all why a proposal went back to draft.

    Kept when the version goes back to draft and when it changes afterwards: the discussion
    of a version is its history.
    """

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    sent_back = models.BooleanField(default=False, help_text="Said while sending it back.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["agreement", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.author} on {self.agreement}"


class QualificationQuerySet(models.QuerySet):
    def current(self) -> "QualificationQuerySet":
        """The judgements in force: one per judged submission."""
        return self.filter(superseded_at__isnull=True)

    def superseded(self) -> "QualificationQuerySet":
        return self.filter(superseded_at__isnull=False)


class Qualification(models.Model):
    """One judgement of a lead by one agreement version, after one submission.

    A re-scoring judges a submission again by a newer version: the earlier judgement is kept,
    results and all, with `superseded_at` set, so the lead page can still show what the
    version before said and why. Each submission has one current judgement.
    """

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="qualifications")
    submission = models.ForeignKey(
        "leads.Submission", on_delete=models.PROTECT, related_name="qualifications"
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
    qualified = models.BooleanField()
    score = models.IntegerField()
    summary = models.TextField()
    evaluated_at = models.DateTimeField(default=timezone.now)
    superseded_at = models.DateTimeField(
        null=True, blank=True, help_text="When a newer version judged the submission again."
    )

    objects = QualificationQuerySet.as_manager()

    class Meta:
        ordering = ["-evaluated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission"],
                condition=models.Q(superseded_at__isnull=True),
                name="qualification_one_current_per_submission",
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead} by {self.agreement}: {'qualified' if self.qualified else 'not'}"


class CriterionResult(models.Model):
    """One criterion's verdict on a lead, with its sentence. Twelve or so per judgement.

    No foreign key constraints in the database: PostgreSQL checks each row's two keys at
    commit, and those checks cost more than writing the rows (0.4 to 1 s per 2,000 judgements
    in the re-scoring, measured). The only writer, `scoring.verdict_rows`, takes both ids from
    rows it has just written or read, and Django still cascades and protects on delete.
    """

    qualification = models.ForeignKey(
        Qualification, on_delete=models.CASCADE, related_name="results", db_constraint=False
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    passed = models.BooleanField()
    points = models.IntegerField()
    reason = models.TextField()

    class Meta:
        ordering = ["qualification", "criterion__position", "criterion_id"]

    def __str__(self) -> str:
        return self.reason


class QualificationFlag(models.Model):
    """A rep's "this should not have qualified": the criterion they think let the lead through
    (none: no criterion fits, the agreement lacks one) and why. Counted per criterion for
    marketing; written by `scoring.flags.lead_flag` with the lead's event."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="flags")
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        related_name="flags",
        help_text="The version whose judgement the rep questions.",
    )
    criterion = models.ForeignKey(
        Criterion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="flags",
        help_text="Empty: no criterion fits.",
    )
    comment = models.TextField()
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agreement", "created_at"])]

    def __str__(self) -> str:
        return f"{self.lead}: {self.criterion or 'no criterion fits'}"


from scoring.progress import RescoreRun  # noqa: E402, F401 - its own module, one of our models
