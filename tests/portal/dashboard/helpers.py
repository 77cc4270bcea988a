"""Leads with hand-written histories, for the dashboard's recounts."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from leads.lifecycle import lead_move, lead_record_outcome
from leads.models import Lead, LeadEvent, Stage, Submission
from tests.factories import LeadFactory

WAY = [
    Stage.QUALIFIED,
    Stage.ROUTED,
    Stage.ACCEPTED,
    Stage.CONTACTED,
    Stage.OPPORTUNITY,
    Stage.WON,
]


def lead_through(*stages: str, reason_code: str = "", created_at: datetime | None = None, **kw):
    """A captured lead moved, by the lifecycle, through `stages` in order (each move to
    rejected or lost carries `reason_code`)."""
    lead = LeadFactory(**kw)
    if created_at:
        Lead.objects.filter(pk=lead.pk).update(created_at=created_at)
        lead.created_at = created_at
    with transaction.atomic():
        for stage in stages:
            code = reason_code if stage in (Stage.REJECTED, Stage.LOST) else ""
            lead_move(lead=lead, to=stage, reason="Test.", reason_code=code)
    return lead


def lead_imported_as(outcome: str, *, reason_code: str = "", days_ago: int = 400, **kw) -> Lead:
    """A lead an import brought with its outcome from history, dated `days_ago`."""
    created = timezone.now() - timedelta(days=days_ago)
    lead = LeadFactory(created_at=created, stage_changed_at=created, **kw)
    with transaction.atomic():
        lead_record_outcome(
            lead=lead,
            to=outcome,
            at=created + timedelta(days=min(30, days_ago // 2)),
            by=None,
            reason="Imported.",
            reason_code=reason_code,
            data={"import": 1, "row": 2},
        )
    return lead


def submitted(lead: Lead, *, utm_source: str = "", at: datetime | None = None) -> Submission:
    return Submission.objects.create(
        form=lead.source_form,
        lead=lead,
        payload={"email": lead.email},
        utm={"utm_source": utm_source} if utm_source else {},
        received_at=at or lead.created_at,
    )


def event(lead: Lead, *, at: datetime, kind=LeadEvent.Kind.STAGE_CHANGED, to_stage: str = ""):
    return LeadEvent.objects.create(lead=lead, kind=kind, to_stage=to_stage, at=at, reason="T.")
