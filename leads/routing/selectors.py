from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from leads.lifecycle import OPEN_STAGES
from leads.models import Lead, Stage

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
