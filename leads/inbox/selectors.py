from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, JSONField, OuterRef, Q, QuerySet, Subquery
from django.utils import dateformat

from leads.models import (
    ContactChannel,
    Lead,
    LeadEvent,
    LostReason,
    RejectionReason,
    RepeatSubmissionNotice,
    Stage,
    Submission,
)

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


def with_unseen_repeats(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Each lead marked `submitted_again` while a repeat submission waits to be seen."""
    unseen = RepeatSubmissionNotice.objects.filter(lead=OuterRef("pk"), seen_at__isnull=True)
    return leads.annotate(submitted_again=Exists(unseen))


def unseen_repeats(*, lead: Lead, user) -> list[RepeatSubmissionNotice]:
    """The repeat submissions the lead's owner has not acknowledged; shown to the owner only."""
    if lead.owner_id is None or lead.owner_id != user.pk:
        return []
    return list(
        lead.repeat_notices.filter(seen_at__isnull=True).select_related(
            "submission__form", "submission__form_version"
        )
    )


def leads_for_export(*, user, stage: str = "", search: str = "") -> QuerySet[Lead]:
    """The list's leads (same filters), each with its first submission's page and UTM tags,
    read in the same query (a subquery per row, no query per lead)."""
    first = Submission.objects.filter(lead=OuterRef("pk")).order_by("received_at", "pk")
    return inbox_for(user=user, stage=stage, search=search).annotate(
        first_utm=Subquery(first.values("utm")[:1], output_field=JSONField()),
        first_page_url=Subquery(first.values("page_url")[:1]),
    )


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


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    title: str
    actor: str
    at: datetime
    text: str
    details: tuple[str, ...] = ()


def lead_timeline(*, lead: Lead) -> list[TimelineEntry]:
    """The lead's events, oldest first, each said in words a person reads."""
    events = list(lead.events.select_related("actor"))
    user_ids = {
        event.data.get(key)
        for event in events
        for key in ("from_rep", "to_rep", "rep")
        if event.data.get(key)
    }
    users = {user.pk: str(user) for user in get_user_model().objects.filter(pk__in=user_ids)}
    return [_entry(event, users) for event in events]


def _entry(event: LeadEvent, users: dict[int, str]) -> TimelineEntry:
    Kind = LeadEvent.Kind
    data = event.data
    details = []
    if data.get("channel") in ContactChannel.values:
        details.append(f"Channel: {ContactChannel(data['channel']).label}")
    if event.reason_code:
        details.append(f"Reason: {_reason_label(event)}")
    if data.get("nurture_until"):
        details.append(f"In nurture until {_day(date.fromisoformat(data['nurture_until']))}")
    if event.kind == Kind.STAGE_CHANGED:
        title = event.get_to_stage_display()
        if event.from_stage:
            title = f"{event.get_from_stage_display()} → {title}"
    elif event.kind == Kind.ASSIGNED:
        title = f"Assigned to {users.get(data.get('rep'), 'a rep')}"
    elif event.kind == Kind.REASSIGNED:
        title = (
            f"Reassigned from {users.get(data.get('from_rep'), 'nobody')} "
            f"to {users.get(data.get('to_rep'), 'a rep')}"
        )
    elif event.kind == Kind.CONTACT_LOGGED:
        title = f"{_channel(data.get('channel'))} logged"
    else:
        title = event.get_kind_display()
    return TimelineEntry(
        kind=event.kind,
        title=title,
        actor=event.actor_name,
        at=event.at,
        text=event.reason,
        details=tuple(details),
    )


def _reason_label(event: LeadEvent) -> str:
    reasons = LostReason if event.to_stage == Stage.LOST else RejectionReason
    return dict(reasons.choices).get(event.reason_code, event.reason_code)


def _channel(value) -> str:
    return ContactChannel(value).label if value in ContactChannel.values else "Contact"


def _day(day: date) -> str:
    return dateformat.format(day, "M j, Y")
