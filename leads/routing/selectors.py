from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from leads.lifecycle import OPEN_STAGES
from leads.models import Lead, Stage

# A manager may hand these to another rep; a rejected lead goes back to routed on the way.
REASSIGNABLE = OPEN_STAGES | {Stage.REJECTED}


def active_reps() -> QuerySet:
    """Who can be given a lead: active users who work leads. A superuser is not a rep."""
    return (
        get_user_model()
        .objects.with_perm("leads.work_lead", include_superusers=False)
        .order_by("first_name", "last_name", "username")
    )


def may_reassign(*, user, lead: Lead) -> bool:
    return user.has_perm("leads.reassign_lead") and lead.stage in REASSIGNABLE
