"""What the REST API reads, for whom. Who sees which lead is the inbox's rule
(`leads_visible_to`); everything the API lists about leads is narrowed by it."""

from django.db.models import QuerySet

from leads.inbox.selectors import leads_visible_to
from leads.models import LeadEvent, Submission
from portal.integrations.api.models import ApiToken


def tokens_of(*, user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-pk")


def submissions_visible_to(*, user) -> QuerySet[Submission]:
    """The submissions of the leads `user` may see."""
    visible = leads_visible_to(user=user)
    submissions = Submission.objects.select_related("form", "form_version")
    if user.has_perm("leads.view_all_leads"):
        return submissions
    return submissions.filter(lead__in=visible.values("pk"))


def lead_events_visible_to(*, user) -> QuerySet[LeadEvent]:
    """The lead events of the leads `user` may see: the feed."""
    events = LeadEvent.objects.select_related("actor")
    if user.has_perm("leads.view_all_leads"):
        return events
    return events.filter(lead__in=leads_visible_to(user=user).values("pk"))
