from django.db.models import Q, QuerySet

from leads.models import Lead, Stage

# A lead already contacted (or further) takes more contacts without changing stage.
CONTACT_AGAIN = frozenset({Stage.CONTACTED, Stage.OPPORTUNITY})


def leads_visible_to(*, user) -> QuerySet[Lead]:
    """Every lead for those who may see them all; a rep sees only the leads they own."""
    leads = Lead.objects.select_related("owner", "queue", "source_form")
    if user.has_perm("leads.view_all_leads"):
        return leads
    if user.has_perm("leads.work_lead"):
        return leads.filter(owner=user)
    return leads.none()


def inbox_for(*, user, stage: str = "", search: str = "") -> QuerySet[Lead]:
    """The leads a user works or oversees, newest activity first, filtered as asked."""
    leads = leads_visible_to(user=user)
    if stage:
        leads = leads.filter(stage=stage)
    if search:
        leads = leads.filter(
            Q(email__icontains=search)
            | Q(company__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    return leads.order_by("-stage_changed_at", "-pk")


# Who may do what. The services ask these again under the lead's row lock.


def may_work(*, user, lead: Lead) -> bool:
    """The rep's moves (accept, reject, contact, convert, win, lose) belong to the owner."""
    return user.has_perm("leads.work_lead") and lead.owner_id == user.pk


def may_recycle(*, user, lead: Lead) -> bool:
    """The owner, or for a lead sales sent back, a manager deciding where it goes next."""
    return may_work(user=user, lead=lead) or (
        lead.stage == Stage.REJECTED and user.has_perm("leads.reassign_lead")
    )


def may_note(*, user, lead: Lead) -> bool:
    return may_work(user=user, lead=lead) or user.has_perm("leads.view_all_leads")
