import logging

from django.db import transaction
from django.utils import timezone

from leads import locks
from leads.lifecycle import can_move, lead_move
from leads.models import Lead, Stage, Submission
from scoring import engine
from scoring.models import Agreement, CriterionResult, Qualification

logger = logging.getLogger(__name__)


class SigningError(Exception):
    pass


def agreement_sign(*, agreement: Agreement, by) -> Agreement:
    """Sign for the side `by` may sign for; the second signature makes the version active."""
    with transaction.atomic():
        agreement = locks.row_locked(Agreement, agreement.pk)
        now = timezone.now()
        fields = []
        if by.has_perm("scoring.sign_for_sales") and agreement.sales_signed_at is None:
            agreement.sales_signed_by, agreement.sales_signed_at = by, now
            fields += ["sales_signed_by", "sales_signed_at"]
        elif by.has_perm("scoring.sign_for_marketing") and agreement.marketing_signed_at is None:
            agreement.marketing_signed_by, agreement.marketing_signed_at = by, now
            fields += ["marketing_signed_by", "marketing_signed_at"]
        else:
            raise SigningError(f"{by} has nothing left to sign on {agreement}.")
        if agreement.sales_signed_at and agreement.marketing_signed_at:
            agreement.activated_at = now
            fields.append("activated_at")
        agreement.save(update_fields=fields)
    return agreement


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
