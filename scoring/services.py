import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from http import HTTPStatus

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django_countries import countries

from leads import locks
from leads.lifecycle import can_move, lead_move
from leads.models import Lead, Stage, Submission
from portal.errors import Conflict, DomainError, InvalidFields, PermissionDenied
from scoring import engine
from scoring.models import (
    LIFECYCLE_FIELDS,
    PROPOSAL_FIELDS,
    Agreement,
    AgreementComment,
    Criterion,
    CriterionResult,
    ProposedAgreementChange,
    Qualification,
)
from scoring.selectors import attribute_keys
from scoring.tasks import rescore_after_activation

logger = logging.getLogger(__name__)


class SigningError(DomainError):
    """A signature refused; `code` says why: not_allowed_to_sign, same_signer, already_signed."""

    code = "cannot_sign"
    status = HTTPStatus.CONFLICT

    def __init__(self, message: str, *, code: str, status: HTTPStatus | None = None, **kwargs):
        super().__init__(message, code=code, **kwargs)
        if status:
            self.status = status


Side = Agreement.Side


@dataclass(frozen=True)
class _Slot:
    """Where one side signs: the permission it takes and the fields that hold its signature."""

    permission: str
    by: str
    at: str


_SLOTS = {
    Side.SALES: _Slot("scoring.sign_for_sales", "sales_signed_by", "sales_signed_at"),
    Side.MARKETING: _Slot(
        "scoring.sign_for_marketing", "marketing_signed_by", "marketing_signed_at"
    ),
}


def agreement_sign(*, agreement: Agreement, by, side: str) -> Agreement:
    """`by` signs for `side`; once two people have signed both sides, the version is active."""
    if side not in Side.values:
        raise SigningError(
            f"There is no side {side!r} to sign: sign for sales or for marketing.",
            code="unknown_side",
            status=HTTPStatus.BAD_REQUEST,
            field="side",
        )
    side = Side(side)
    other = Side.MARKETING if side == Side.SALES else Side.SALES
    slot = _SLOTS[side]
    if not by.has_perm(slot.permission):
        raise SigningError(
            f"{by} may not sign {agreement} for {side.label.lower()}.",
            code="not_allowed_to_sign",
            status=HTTPStatus.FORBIDDEN,
        )
    with transaction.atomic():
        # Every activation goes through this one key, so two versions completing their
        # signatures at once cannot both become the active one.
        locks.key_locked("agreement-activation")
        # Two signatures at once wait for each other here; the second sees the first, so a
        # side is never signed twice and one person never signs both sides.
        agreement = locks.row_locked(Agreement, agreement.pk)
        if not agreement.is_proposed:
            raise SigningError(
                f"{agreement} is a draft: it is signed once it is proposed, so that both "
                "signatures are on the same text.",
                code="not_proposed",
            )
        if getattr(agreement, slot.at) is not None:
            raise SigningError(
                f"{agreement} is already signed for {side.label.lower()}.", code="already_signed"
            )
        if getattr(agreement, f"{_SLOTS[other].by}_id") == by.pk:
            raise SigningError(
                f"{by} signed {agreement} for {other.label.lower()}; someone else must sign "
                f"for {side.label.lower()}.",
                code="same_signer",
                status=HTTPStatus.FORBIDDEN,
            )
        now = timezone.now()
        setattr(agreement, slot.by, by)
        setattr(agreement, slot.at, now)
        fields = [slot.by, slot.at]
        if agreement.sales_signed_at and agreement.marketing_signed_at:
            _retire_active(now)
            agreement.activated_at = now
            fields.append("activated_at")
            rescore_after_activation(agreement=agreement)
        agreement.save(update_fields=fields)
    return agreement


def _retire_active(now) -> None:
    """Exactly one version is active: the one before steps down as the next one starts."""
    for previous in Agreement.objects.filter(activated_at__isnull=False, retired_at__isnull=True):
        previous.retired_at = now
        previous.save(update_fields=["retired_at"])


# What a new draft (and its criteria) does not take from the version it is made from. All
# else is copied, so a term added to Agreement or Criterion later is carried over as well.
_NOT_COPIED = frozenset(
    {"id", "agreement", "version", "created_by", "created_at", *LIFECYCLE_FIELDS}
)
DRAFT = "scoring.draft_agreement"


def agreement_draft_from(*, agreement: Agreement, by) -> Agreement:
    """A new unsigned version with the terms and criteria of `agreement`, ready to edit.

    Signed versions never change; this is how an agreement changes. The new version's number
    is one more than the highest so far.
    """
    _require_drafter(by)
    with transaction.atomic():
        source = Agreement.objects.get(pk=agreement.pk)
        draft = _created_with_next_version(**_copied(source), created_by=by)
        Criterion.objects.bulk_create(
            Criterion(**_copied(criterion), agreement=draft) for criterion in source.criteria.all()
        )
    return draft


def agreement_draft_new(*, by) -> Agreement:
    """A new empty version, for an agreement written from scratch."""
    _require_drafter(by)
    with transaction.atomic():
        return _created_with_next_version(created_by=by)


_NUMBERING_ATTEMPTS = 10


def _created_with_next_version(**fields) -> Agreement:
    # Two drafts made at once can both see the same highest version. The unique version
    # makes the later insert fail once the first commits; it then sees that version and
    # takes the next. (Locking the newest row would not do: the newest row moves.)
    for _ in range(_NUMBERING_ATTEMPTS):
        newest = Agreement.objects.aggregate(Max("version"))["version__max"] or 0
        try:
            with transaction.atomic():
                return Agreement.objects.create(version=newest + 1, **fields)
        except IntegrityError:
            if not Agreement.objects.filter(version=newest + 1).exists():
                raise
    raise Conflict("Other drafts took every version number tried; try again.")


def _copied(row) -> dict:
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if field.name not in _NOT_COPIED
    }


def _require_drafter(by) -> None:
    if not by.has_perm(DRAFT):
        raise PermissionDenied(f"{by} may not draft agreements.")


def _draft_locked(agreement: Agreement) -> Agreement:
    """The version, locked for an edit, or a 409 if it was proposed meanwhile."""
    agreement = locks.row_locked(Agreement, agreement.pk)
    if agreement.is_proposed:
        raise ProposedAgreementChange(agreement)
    return agreement


TERMS = ("summary", "threshold", "accept_within_minutes", "contact_within_minutes")


def agreement_terms_set(
    *,
    agreement: Agreement,
    by,
    summary: str,
    threshold: int,
    accept_within_minutes: int,
    contact_within_minutes: int,
) -> Agreement:
    """A draft's summary, threshold and service levels."""
    _require_drafter(by)
    for field, minutes in [
        ("accept_within_minutes", accept_within_minutes),
        ("contact_within_minutes", contact_within_minutes),
    ]:
        if minutes < 1:
            raise DomainError("A service level is at least one minute.", field=field)
    with transaction.atomic():
        agreement = _draft_locked(agreement)
        agreement.summary = summary
        agreement.threshold = threshold
        agreement.accept_within_minutes = accept_within_minutes
        agreement.contact_within_minutes = contact_within_minutes
        agreement.save(update_fields=list(TERMS))
    return agreement


# What each operator compares the lead's value with, as the editor asks for it.
NOTHING, TEXT, LIST, NUMBER = engine.NOTHING, engine.TEXT, engine.LIST, engine.NUMBER
RANGE, PATTERN, DAYS = engine.RANGE, engine.PATTERN, engine.DAYS
OPERATOR_VALUES = {Criterion.Operator(name): needs for name, (needs, _) in engine.OPERATORS.items()}
VALUE_HINTS = {
    NUMBER: "a number, such as 50",
    LIST: "a list of values, such as Brazil, Portugal",
    TEXT: "a text to compare with",
    NOTHING: "no value: leave it blank",
    RANGE: "two numbers, the lowest and the highest, such as 10, 500",
    PATTERN: "a pattern (a Python regular expression, case ignored), such as ^[A-Z]{2}-[0-9]+$",
    DAYS: "a number of days, such as 30",
}
# Judged on the submission, not on an attribute a form asks for.
SUBMISSION_OPERATORS = frozenset({Criterion.Operator.SUBMITTED_WITHIN})


def criterion_problems(
    *,
    kind: str,
    attribute: str,
    operator: str,
    value,
    points: int,
    blank_passes: bool = False,
) -> dict[str, list[dict[str, str]]]:
    """Every reason these terms cannot be a criterion, by field; empty when they can."""
    problems: dict[str, list[dict[str, str]]] = {}

    def refuse(field: str, code: str, message: str) -> None:
        problems.setdefault(field, []).append({"message": message, "code": code})

    if kind not in Criterion.Kind.values:
        refuse("kind", "unknown_kind", f"“{kind}” is neither mandatory nor scoring.")
    keys = attribute_keys()
    if attribute not in keys and operator not in SUBMISSION_OPERATORS:
        known = ", ".join(sorted(keys)) or "none yet"
        refuse(
            "attribute",
            "unknown_attribute",
            f"No form asks for “{attribute}”; the forms' fields are: {known}.",
        )
    if operator not in Criterion.Operator.values:
        known = ", ".join(Criterion.Operator.values)
        refuse("operator", "unknown_operator", f"“{operator}” is not an operator: use {known}.")
    else:
        problem = engine.value_problem(operator, value) or _country_problem(operator, value)
        if problem:
            refuse("value", "wrong_value_type", problem)
        if blank_passes and operator in engine.BLANK_IS_JUDGED:
            label = Criterion.Operator(operator).label
            refuse(
                "blank_passes",
                "blank_judged",
                f"“{label}” fails a blank by its meaning: leave “a blank passes” unticked.",
            )
    if kind == Criterion.Kind.MANDATORY and points:
        refuse("points", "mandatory_points", "A mandatory criterion adds no points: use 0.")
    return problems


def _country_problem(operator: str, value) -> str | None:
    """Countries are compared as the forms store them: by their English names."""
    if operator != Criterion.Operator.COUNTRY_IN:
        return None
    unknown = [name for name in value if not countries.by_name(name.strip())]
    if unknown:
        return (
            f"Not a country name the forms use: {', '.join(unknown)}. Write it as the country "
            "field shows it, e.g. Brazil, United States of America."
        )
    return None


def criterion_set(
    *,
    agreement: Agreement,
    by,
    criterion: Criterion | None = None,
    label: str,
    kind: str,
    attribute: str,
    operator: str,
    value,
    points: int,
    blank_passes: bool = False,
) -> Criterion:
    """Add a criterion to a draft (last), or change one of its criteria."""
    _require_drafter(by)
    problems = criterion_problems(
        kind=kind,
        attribute=attribute,
        operator=operator,
        value=value,
        points=points,
        blank_passes=blank_passes,
    )
    if problems:
        raise InvalidFields(problems)
    with transaction.atomic():
        agreement = _draft_locked(agreement)
        if criterion is None:
            last = agreement.criteria.aggregate(Max("position"))["position__max"]
            criterion = Criterion(agreement=agreement, position=0 if last is None else last + 1)
        else:
            criterion = _criterion_of(agreement, criterion.pk)
        for field, term in [
            ("label", label),
            ("kind", kind),
            ("attribute", attribute),
            ("operator", operator),
            ("value", value),
            ("points", points),
            ("blank_passes", blank_passes),
        ]:
            setattr(criterion, field, term)
        criterion.save()
    return criterion


def criterion_remove(*, criterion: Criterion, by) -> None:
    _require_drafter(by)
    with transaction.atomic():
        agreement = _draft_locked(criterion.agreement)
        _criterion_of(agreement, criterion.pk).delete()
        _renumber(list(agreement.criteria.all()))


def criterion_move(*, criterion: Criterion, by, offset: int) -> None:
    """Move a criterion up (-1) or down (+1) in its draft; at either end it stays."""
    _require_drafter(by)
    with transaction.atomic():
        agreement = _draft_locked(criterion.agreement)
        criteria = list(agreement.criteria.all())
        at = next(
            i for i, c in enumerate(criteria) if c.pk == _criterion_of(agreement, criterion.pk).pk
        )
        to = min(max(at + offset, 0), len(criteria) - 1)
        criteria.insert(to, criteria.pop(at))
        _renumber(criteria)


def _criterion_of(agreement: Agreement, pk: int) -> Criterion:
    criterion = agreement.criteria.filter(pk=pk).first()
    if criterion is None:
        raise Conflict(f"That criterion is no longer part of {agreement}.")
    return criterion


def _renumber(criteria: list[Criterion]) -> None:
    for position, criterion in enumerate(criteria):
        criterion.position = position
    Criterion.objects.bulk_update(criteria, ["position"])


def agreement_propose(*, agreement: Agreement, by) -> Agreement:
    """Freeze a draft: from now on both managers sign exactly this text, or send it back."""
    _require_drafter(by)
    with transaction.atomic():
        agreement = locks.row_locked(Agreement, agreement.pk)
        if agreement.is_proposed:
            raise Conflict(f"{agreement} is already {agreement.status}.", code="already_proposed")
        if not agreement.criteria.exists():
            raise DomainError(
                f"{agreement} has no criteria yet: add at least one before proposing it.",
                code="no_criteria",
            )
        agreement.proposed_by = by
        agreement.proposed_at = timezone.now()
        agreement.save(update_fields=list(PROPOSAL_FIELDS))
    return agreement


COMMENT_MAX_LENGTH = 2000


def agreement_comment_add(*, agreement: Agreement, by, text: str) -> AgreementComment:
    """A manager's remark on a version, kept on its page whatever happens to the version."""
    _require_drafter(by)
    if not text.strip():
        raise DomainError("Write the comment first.", field="text")
    if len(text) > COMMENT_MAX_LENGTH:
        raise DomainError(f"Keep it under {COMMENT_MAX_LENGTH} characters.", field="text")
    return AgreementComment.objects.create(agreement=agreement, author=by, text=text.strip())


def agreement_send_back(*, agreement: Agreement, by, comment: str) -> Agreement:
    """A proposal goes back to draft with a comment saying why; its signatures go too.

    A signature belongs to the exact frozen text it was given on. Back in draft the text can
    change, so a signature already given is cleared and both sides sign the next proposal.
    """
    _require_drafter(by)
    if not comment.strip():
        raise DomainError("Say why it goes back, so the draft can be changed.", field="comment")
    with transaction.atomic():
        locks.key_locked("agreement-activation")
        agreement = locks.row_locked(Agreement, agreement.pk)
        if not agreement.is_proposed or agreement.activated_at is not None:
            raise Conflict(
                f"{agreement} is {agreement.status}: only a proposal goes back to draft.",
                code="not_proposed",
            )
        for field in LIFECYCLE_FIELDS - {"retired_at"}:
            setattr(agreement, field if field.endswith("_at") else f"{field}_id", None)
        agreement.save(update_fields=sorted(LIFECYCLE_FIELDS - {"retired_at"}))
        AgreementComment.objects.create(
            agreement=agreement, author=by, text=comment.strip(), sent_back=True
        )
    return agreement


def submission_qualify(*, submission_id: int) -> Qualification | None:
    """Judge the lead behind a submission by the active agreement, once per submission."""
    agreement = Agreement.objects.active()
    if agreement is None:
        logger.warning("No active agreement: submission %s waits to be scored.", submission_id)
        return None
    rules = _rules_of(agreement)
    with transaction.atomic():
        submission = (
            Submission.objects.select_related("form_version").filter(pk=submission_id).first()
        )
        if submission is None:
            logger.info("Submission %s is gone; nothing to score.", submission_id)
            return None
        lead = locks.lead_locked(submission.lead_id)
        if Qualification.objects.filter(submission=submission).exists():
            return None
        blanks = _blank_placeholders(submission)
        verdict = engine.evaluate(
            lead.attributes,
            rules,
            agreement.threshold,
            blanks=blanks,
            submitted_at=submission.received_at,
            now=timezone.now(),
            answered=_answered_keys(submission, blanks),
        )
        qualification = Qualification.objects.create(
            lead=lead,
            submission=submission,
            agreement=agreement,
            qualified=verdict.qualified,
            score=verdict.score,
            summary=verdict.summary,
        )
        CriterionResult.objects.bulk_create(
            CriterionResult(
                qualification=qualification,
                criterion_id=outcome.rule_id,
                passed=outcome.passed,
                points=outcome.points,
                reason=outcome.reason,
            )
            for outcome in verdict.outcomes
        )
        lead.score = verdict.score
        _move_by_verdict(lead, verdict, agreement)
    return qualification


def _rules_of(agreement: Agreement) -> tuple[engine.Rule, ...]:
    """A proposed version never changes (house rule 6): its rules are read once per process
    instead of once per lead. A draft is read every time."""
    if agreement.proposed_at is None:
        return tuple(agreement.rules())
    return _frozen_rules(agreement.pk, agreement.proposed_at)


@lru_cache(maxsize=32)
def _frozen_rules(agreement_id: int, proposed_at: datetime) -> tuple[engine.Rule, ...]:
    return tuple(Agreement.objects.get(pk=agreement_id).rules())


def _blank_placeholders(submission: Submission) -> frozenset[str]:
    """The placeholders the submission's form version counts as blank ("Select", "N/A")."""
    fields = submission.form_version.fields if submission.form_version_id else []
    return engine.blank_placeholders(
        [value for spec in fields or [] for value in spec.get("blank_values") or []]
    )


def _answered_keys(submission: Submission, blanks: frozenset[str]) -> frozenset[str]:
    payload = submission.payload if isinstance(submission.payload, dict) else {}
    return frozenset(key for key, value in payload.items() if not engine.is_blank(value, blanks))


def _move_by_verdict(lead: Lead, verdict: engine.Verdict, agreement: Agreement) -> None:
    reason = f"{verdict.summary} (agreement v{agreement.version})"
    if verdict.qualified and can_move(lead.stage, Stage.QUALIFIED):
        lead_move(lead=lead, to=Stage.QUALIFIED, reason=reason, extra_fields=("score",))
    elif not verdict.qualified and lead.stage == Stage.CAPTURED:
        lead_move(lead=lead, to=Stage.DISQUALIFIED, reason=reason, extra_fields=("score",))
    else:
        lead.save(update_fields=["score", "updated_at"])
