"""What the REST API reads, for whom. Who sees which lead is the inbox's rule
(`leads_visible_to`); everything the API lists about leads is narrowed by it."""

from django.db.models import QuerySet

from leads.inbox.selectors import leads_visible_to
from leads.models import Lead, LeadEvent, Submission
from portal.integrations.api.models import ApiToken

# The owner as the API shows them (UserRefSerializer: id, username, full name).
_OWNER_COLUMNS = ("owner__id", "owner__username", "owner__first_name", "owner__last_name")


def leads_for_api(*, user, fields: list[str]) -> QuerySet[Lead]:
    """The leads `user` may see, reading only `fields` of each (the ones the API shows) and
    its owner's name: not the queue's or the form's rows (their ids are on the lead), nor the
    lead's own bookkeeping columns. At a page of 50 that is most of the list's time in Python
    (building model instances), however fast the query is."""
    leads = leads_visible_to(user=user).select_related(None).select_related("owner")
    return leads.only(*fields, *_OWNER_COLUMNS)


def lead_rows_for_api(*, user, columns: tuple[str, ...]) -> QuerySet[Lead]:
    """The leads `user` may see as rows of `columns` (names as `values()` takes them): a
    list page needs no model instances, which cost it more than its query."""
    return leads_visible_to(user=user).values(*columns)


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
