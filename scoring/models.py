"""The agreed definition of a qualified lead, versioned, and each lead's judgement by it."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from scoring import engine


class AgreementQuerySet(models.QuerySet):
    def active(self) -> "Agreement | None":
        return self.filter(activated_at__isnull=False).order_by("-activated_at").first()


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
    contact_within_minutes = models.PositiveIntegerField(
        default=1440, help_text="SLA: an accepted lead must be contacted within this."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sales_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sales_signed_at = models.DateTimeField(null=True, blank=True)
    marketing_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marketing_signed_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        permissions = [
            ("sign_for_sales", "Can sign an agreement for sales"),
            ("sign_for_marketing", "Can sign an agreement for marketing"),
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

    def rules(self) -> list[engine.Rule]:
        return [criterion.as_rule() for criterion in self.criteria.all()]


class Criterion(models.Model):
    class Kind(models.TextChoices):
        MANDATORY = engine.MANDATORY, "Mandatory (must pass)"
        SCORING = engine.SCORING, "Scoring (adds points)"

    class Operator(models.TextChoices):
        PRESENT = "present", "is given"
        EQUALS = "equals", "equals"
        ONE_OF = "one_of", "is one of"
        NOT_ONE_OF = "not_one_of", "is not one of"
        AT_LEAST = "at_least", "is at least"
        AT_MOST = "at_most", "is at most"
        DOMAIN_NOT_IN = "domain_not_in", "e-mail domain is not one of"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="criteria")
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    attribute = models.SlugField(max_length=64)
    operator = models.CharField(max_length=16, choices=Operator.choices)
    value = models.JSONField(null=True, blank=True)
    points = models.IntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["agreement", "position", "pk"]

    def __str__(self) -> str:
        return self.label

    def as_rule(self) -> engine.Rule:
        return engine.Rule(
            id=self.pk,
            kind=self.kind,
            attribute=self.attribute,
            operator=self.operator,
            value=self.value,
            points=self.points,
            label=self.label,
        )


class Qualification(models.Model):
    """One judgement of a lead by one agreement version, after one submission."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="qualifications")
    submission = models.OneToOneField(
        "leads.Submission", on_delete=models.PROTECT, related_name="qualification"
    )
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
    qualified = models.BooleanField()
    score = models.IntegerField()
    summary = models.TextField()
    evaluated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-evaluated_at"]

    def __str__(self) -> str:
        return f"{self.lead} by {self.agreement}: {'qualified' if self.qualified else 'not'}"


class CriterionResult(models.Model):
    qualification = models.ForeignKey(
        Qualification, on_delete=models.CASCADE, related_name="results"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField()
    points = models.IntegerField()
    reason = models.TextField()

    class Meta:
        ordering = ["qualification", "criterion__position", "criterion_id"]

    def __str__(self) -> str:
        return self.reason
