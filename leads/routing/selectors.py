from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from leads.lifecycle import OPEN_STAGES
from leads.models import Lead, Stage
from leads.routing.models import Queue
from leads.routing.rules import routing_attributes

# A manager may hand these to another rep; a rejected lead goes back to routed on the way.
REASSIGNABLE = OPEN_STAGES | {Stage.REJECTED}


MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def active_reps() -> QuerySet:
    """Who can be given a lead (by routing, or by a manager): active users who work leads in
    an inbox of their own. Not a superuser, and not whoever sees every lead (a sales manager
    holds leads.work_lead too, but her inbox is everyone's: a lead given to her would be
    nobody's in particular)."""
    users = get_user_model().objects
    overseers = users.with_perm("leads.view_all_leads", backend=MODEL_BACKEND)
    return (
        users.with_perm("leads.work_lead", include_superusers=False, backend=MODEL_BACKEND)
        .exclude(pk__in=overseers.values("pk"))
        .order_by("first_name", "last_name", "username")
    )


def may_reassign(*, user, lead: Lead) -> bool:
    return user.has_perm("leads.reassign_lead") and lead.stage in REASSIGNABLE


def routing_attributes_of(leads) -> dict[int, dict]:
    """What queue rules read of each lead (`rules.routing_attributes`), by lead id: its
    attributes and its form (slug; its name as form_name), campaign and score, in one query."""
    form_model = Lead.source_form.field.related_model
    forms = dict(
        (pk, (slug, name))
        for pk, slug, name in form_model.objects.filter(
            pk__in={lead.source_form_id for lead in leads}
        ).values_list("pk", "slug", "name")
    )
    attributes = {}
    for lead in leads:
        slug, name = forms.get(lead.source_form_id, ("", ""))
        values = routing_attributes(
            lead.attributes, form=slug, campaign=lead.campaign, score=lead.score
        )
        values["form_name"] = name
        attributes[lead.pk] = values
    return attributes


def catch_all_exists() -> bool:
    """Whether an active queue takes every lead (no conditions), so none is left unmatched."""
    return Queue.objects.filter(is_active=True, conditions=[]).exists()


def unrouted_count() -> int:
    """Qualified leads waiting to be routed: no queue took them yet, or none had room."""
    return Lead.objects.filter(stage=Stage.QUALIFIED, route_due_at__isnull=False).count()
