import logging
from dataclasses import dataclass
from http import HTTPStatus

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from leads import locks
from leads.lifecycle import can_move, lead_move
from leads.models import Lead, Stage, Submission
from portal.errors import Conflict, DomainError, PermissionDenied
from scoring import engine
from scoring.models import (
    SIGNATURE_FIELDS,
    Agreement,
    Criterion,
    CriterionResult,
    Qualification,
)

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
        # Two signatures at once wait for each other here; the second sees the first, so a
        # side is never signed twice and one person never signs both sides.
        agreement = locks.row_locked(Agreement, agreement.pk)
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
            agreement.activated_at = now
            fields.append("activated_at")
        agreement.save(update_fields=fields)
    return agreement


# What a new draft (and its criteria) does not take from the version it is made from. All
# else is copied, so a term added to Agreement or Criterion later is carried over as well.
_NOT_COPIED = frozenset(
    {"id", "agreement", "version", "created_by", "created_at", *SIGNATURE_FIELDS}
)


def agreement_draft_from(*, agreement: Agreement, by) -> Agreement:
    """A new unsigned version with the terms and criteria of `agreement`, ready to edit.

    Signed versions never change; this is how an agreement changes. The new version's number
    is one more than the highest so far.
    """
    if not by.has_perm("scoring.add_agreement"):
        raise PermissionDenied(f"{by} may not draft agreements.")
    with transaction.atomic():
        source = Agreement.objects.get(pk=agreement.pk)
        draft = _created_with_next_version(**_copied(source), created_by=by)
        Criterion.objects.bulk_create(
            Criterion(**_copied(criterion), agreement=draft) for criterion in source.criteria.all()
        )
    return draft


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


def submission_qualify(*, submission_id: int) -> Qualification | None:
    """Judge the lead behind a submission by the active agreement, once per submission."""
    agreement = Agreement.objects.active()
    if agreement is None:
        logger.warning("No active agreement: submission %s waits to be scored.", submission_id)
        return None
    rules = agreement.rules()
    with transaction.atomic():
        submission = Submission.objects.filter(pk=submission_id).first()
        if submission is None:
            logger.info("Submission %s is gone; nothing to score.", submission_id)
            return None
        lead = locks.lead_locked(submission.lead_id)
        if Qualification.objects.filter(submission=submission).exists():
            return None
        verdict = engine.evaluate(lead.attributes, rules, agreement.threshold)
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


def _move_by_verdict(lead: Lead, verdict: engine.Verdict, agreement: Agreement) -> None:
    reason = f"{verdict.summary} (agreement v{agreement.version})"
    if verdict.qualified and can_move(lead.stage, Stage.QUALIFIED):
        lead_move(lead=lead, to=Stage.QUALIFIED, reason=reason, extra_fields=("score",))
    elif not verdict.qualified and lead.stage == Stage.CAPTURED:
        lead_move(lead=lead, to=Stage.DISQUALIFIED, reason=reason, extra_fields=("score",))
    else:
        lead.save(update_fields=["score", "updated_at"])
