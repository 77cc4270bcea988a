from datetime import datetime

from django.db.models import Count

from leads.models import Lead, LeadEvent, Stage


def _leads_in(since: datetime | None, until: datetime | None):
    leads = Lead.objects.all()
    if since:
        leads = leads.filter(created_at__gte=since)
    if until:
        leads = leads.filter(created_at__lt=until)
    return leads


def stage_counts(*, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """For the leads captured in the period, every stage in lifecycle order: how many stand
    in it now, and how many ever reached it (read from the lead events)."""
    leads = _leads_in(since, until)
    now = dict(leads.values_list("stage").annotate(n=Count("pk")).order_by())
    reached = dict(
        LeadEvent.objects.filter(lead__in=leads)
        .exclude(to_stage="")
        .values_list("to_stage")
        .annotate(n=Count("lead_id", distinct=True))
        .order_by()
    )
    return [
        {
            "stage": stage,
            "label": label,
            "count": now.get(stage, 0),
            "reached": reached.get(stage, 0),
        }
        for stage, label in Stage.choices
    ]
