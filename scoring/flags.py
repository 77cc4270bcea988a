"""A rep's "this should not have qualified": the flag (a service, with the lead's event in its
transaction) and what marketing reads of the flags (selectors), grouped by criterion.

A flag points at a criterion the lead passed in the judgement in force (the one that let it
through, as the rep sees it) or at none ("none fits": the agreement lacks the rule).
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count

from leads import locks
from leads.events import event_flagged
from leads.models import Lead
from portal.errors import DomainError, PermissionDenied
from scoring.models import Agreement, Criterion, CriterionResult, Qualification, QualificationFlag

COMMENT_MAX_LENGTH = 2000


def flag_judgement(*, lead: Lead) -> tuple[Qualification | None, list[Criterion]]:
    """The judgement in force that qualified `lead` (the latest), and the criteria it passed,
    in the agreement's order; (None, []) when no judgement in force qualified it."""
    qualification = (
        lead.qualifications.current().filter(qualified=True).select_related("agreement").first()
    )
    if qualification is None:
        return None, []
    passed = CriterionResult.objects.filter(qualification=qualification, passed=True)
    return qualification, [result.criterion for result in passed.select_related("criterion")]


def lead_flag(*, lead: Lead, by, criterion: Criterion | None, comment: str) -> QualificationFlag:
    """`by`, the lead's rep, says it should not have qualified: because of `criterion` (one
    it passed), or, with None, because no criterion fits."""
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("Say what is wrong with it.", code="required", field="comment")
    if len(comment) > COMMENT_MAX_LENGTH:
        raise DomainError(
            f"Keep it to {COMMENT_MAX_LENGTH} characters (it has {len(comment)}).",
            code="max_length",
            field="comment",
        )
    with transaction.atomic():
        # Locked so the owner is checked as it is when the flag is written.
        lead = locks.lead_locked(lead.pk)
        if not (by.has_perm("leads.work_lead") and lead.owner_id == by.pk):
            raise PermissionDenied(f"{by} may not flag {lead}: it is not in their inbox.")
        qualification, passed = flag_judgement(lead=lead)
        if qualification is None:
            raise DomainError(
                f"No agreement in force qualified {lead}: there is nothing to flag.",
                code="not_qualified",
            )
        if criterion is not None and criterion.pk not in {c.pk for c in passed}:
            raise DomainError(
                "Choose a criterion the lead passed, or “None fits”.",
                code="invalid_choice",
                field="criterion",
            )
        flag = QualificationFlag.objects.create(
            lead=lead,
            agreement=qualification.agreement,
            criterion=criterion,
            comment=comment,
            flagged_by=by,
        )
        pointing = f"the criterion “{criterion.label}”" if criterion else "no criterion fits"
        event_flagged(
            lead=lead,
            by=by,
            reason=f"{by} says it should not have qualified ({pointing}): {comment}",
            flag_id=flag.pk,
            criterion_id=criterion.pk if criterion else None,
        )
    return flag


@dataclass
class FlagGroup:
    """The flags on one criterion of one version (criterion None: "none fits")."""

    agreement: Agreement
    criterion: Criterion | None
    count: int
    latest: list[QualificationFlag] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.criterion.label if self.criterion else "None fits"


LATEST_PER_GROUP = 10


def flags_by_criterion(
    *, since: datetime | None = None, until: datetime | None = None
) -> list[FlagGroup]:
    """Every flag between `since` and `until` (either open), grouped by version and
    criterion, the most flagged first; each group with its count and its latest flags. Three
    queries, however many flags."""
    flags = QualificationFlag.objects.all()
    if since is not None:
        flags = flags.filter(created_at__gte=since)
    if until is not None:
        flags = flags.filter(created_at__lt=until)
    counts = flags.values_list("agreement_id", "criterion_id").annotate(n=Count("pk"))
    groups = {(agreement_id, criterion_id): count for agreement_id, criterion_id, count in counts}
    if not groups:
        return []
    agreements = Agreement.objects.select_related("scope").in_bulk({key[0] for key in groups})
    criteria = Criterion.objects.in_bulk({key[1] for key in groups if key[1]})
    found = {
        key: FlagGroup(agreements[key[0]], criteria.get(key[1]) if key[1] else None, count)
        for key, count in groups.items()
    }
    latest = flags.select_related("lead", "flagged_by").order_by("-created_at", "-pk")
    for flag in latest[: LATEST_PER_GROUP * len(groups)]:
        group = found[(flag.agreement_id, flag.criterion_id)]
        if len(group.latest) < LATEST_PER_GROUP:
            group.latest.append(flag)
    return sorted(
        found.values(),
        key=lambda g: (-g.agreement.version, -g.count, g.criterion is None, g.label),
    )


def _rule_key(attribute: str, operator: str, value) -> tuple[str, str, str]:
    return attribute, operator, json.dumps(value, sort_keys=True)


@dataclass
class FlagCounts:
    by_rule: Counter  # (attribute, operator, value) -> flags on a criterion saying that
    none_fits: int

    def of(self, rule) -> int:
        return self.by_rule[_rule_key(rule.attribute, rule.operator, rule.value)]


def flag_counts(
    *, agreement: Agreement, since: datetime | None, until: datetime | None = None
) -> FlagCounts:
    """The flags between `since` and `until` (either open) on the criteria of `agreement`'s
    scope, counted by the rule they say (attribute, operator, value): a criterion copied into
    a newer version keeps the flags its earlier self had. One query, plus one for "none
    fits"."""
    flags = QualificationFlag.objects.filter(agreement__scope_id=agreement.scope_id)
    if since is not None:
        flags = flags.filter(created_at__gte=since)
    if until is not None:
        flags = flags.filter(created_at__lt=until)
    rows = (
        flags.filter(criterion__isnull=False)
        .values_list("criterion__attribute", "criterion__operator", "criterion__value")
        .annotate(n=Count("pk"))
    )
    by_rule: Counter = Counter()
    for attribute, operator, value, count in rows:
        by_rule[_rule_key(attribute, operator, value)] += count
    return FlagCounts(by_rule, flags.filter(criterion__isnull=True).count())
