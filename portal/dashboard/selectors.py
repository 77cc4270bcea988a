from datetime import datetime

from django.db.models import Count

from leads.models import Lead, Stage


def stage_counts(*, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """How many leads stand in each stage now, every stage listed, in lifecycle order."""
    leads = Lead.objects.all()
    if since:
        leads = leads.filter(created_at__gte=since)
    if until:
        leads = leads.filter(created_at__lt=until)
    counted = dict(leads.values_list("stage").annotate(n=Count("pk")).order_by())
    return [
        {"stage": stage, "label": label, "count": counted.get(stage, 0)}
        for stage, label in Stage.choices
    ]
