"""Who hears of a lead event, and as what: the one table from lead event kinds to
notifications (STYLE: the action also says who must hear of it, from one place).

`leads.events` calls `events_heard` wherever it writes events, one event or a whole batch,
in the transaction of the change: a batch's notifications are one query for their
recipients and one INSERT (portal/notifications/services.py), never a query per lead. Each
rule reads only the event and the lead it was built with; the managers told of a breach are
read once per batch, and only when the batch has one.

No one is told of what they did themselves (the event's actor).

The webhook endpoints hear of events too, as the kinds of `WEBHOOK_KINDS`: an outbox row per
subscribed endpoint in the same transaction (portal/integrations/webhooks/services.py).
"""

from collections.abc import Callable, Iterator, Sequence
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from leads.models import Lead, LeadEvent
from portal.integrations.webhooks.services import events_emit
from portal.notifications.models import Kind as Told
from portal.notifications.services import Notice, notices_send

# Lead event kinds written by the service-level clocks and nurture's return, by their
# stored value (they need not be members of `LeadEvent.Kind` for their rules to hold).
SLA_REMINDER = "sla_reminder"
SLA_BREACHED = "sla_breached"
BACK_FROM_NURTURE = "back_from_nurture"


_SENTINEL = 987654321987


class _Batch:
    """What the rules of one batch share: the sales managers, read at most once."""

    def __init__(self):
        self._managers: list[int] | None = None
        self._lead_url: tuple[str, str] | None = None

    def lead_url(self, pk: int) -> str:
        """The lead page's address; `reverse` once a batch, not per notice (a fifteenth of
        the escalation step's time, py-spy)."""
        if self._lead_url is None:
            head, _, tail = reverse("inbox:lead", kwargs={"pk": _SENTINEL}).partition(
                str(_SENTINEL)
            )
            self._lead_url = head, tail
        head, tail = self._lead_url
        return f"{head}{pk}{tail}"

    def managers(self) -> list[int]:
        """Who is told of a breach when the event names no manager: active users whose
        role gives leads to other reps (the sales managers)."""
        if self._managers is None:
            # Named: django-axes adds a second backend, and with_perm then needs one.
            holders = get_user_model().objects.with_perm(
                "leads.reassign_lead",
                include_superusers=False,
                backend="django.contrib.auth.backends.ModelBackend",
            )
            self._managers = sorted(holders.values_list("pk", flat=True))
        return self._managers


Rule = Callable[[LeadEvent, _Batch], Iterator[tuple[int | None, str, str]]]


def _assigned(event: LeadEvent, batch: _Batch):
    yield event.data.get("rep"), Told.LEAD_ASSIGNED, "{lead} was assigned to you"


def _reassigned(event: LeadEvent, batch: _Batch):
    """A manager's reassignment, or the escalation ladder's (its reason says which)."""
    to_rep, from_rep = event.data.get("to_rep"), event.data.get("from_rep")
    yield to_rep, Told.LEAD_REASSIGNED, "{lead} was reassigned to you"
    if from_rep != to_rep:
        yield from_rep, Told.LEAD_BREACHED, "{lead} was taken from you"


def _sla_reminder(event: LeadEvent, batch: _Batch):
    yield _rep(event), Told.LEAD_DUE_SOON, "{lead} is due soon"


def _sla_breached(event: LeadEvent, batch: _Batch):
    """The breach counts against the rep who had the lead; their manager hears of it."""
    rep = _rep(event)
    yield rep, Told.LEAD_BREACHED, "{lead} breached its service level"
    named = event.data.get("manager", event.data.get("managers"))
    managers = batch.managers() if named is None else named
    for manager in managers if isinstance(managers, list) else [managers]:
        if manager != rep:
            yield manager, Told.LEAD_BREACHED, "{lead} breached its service level"


def _back_from_nurture(event: LeadEvent, batch: _Batch):
    yield _rep(event), Told.LEAD_BACK_FROM_NURTURE, "{lead} came back from nurture"


def _submission_received(event: LeadEvent, batch: _Batch):
    """A lead already with a rep sent a form again. A CSV import's rows are not news to
    the rep one by one: the import's author hears when it finishes."""
    if not event.data.get("created") and "import" not in event.data:
        yield event.lead.owner_id, Told.LEAD_SUBMITTED_AGAIN, "{lead} submitted a form again"


def _rep(event: LeadEvent) -> int | None:
    """The rep an event is about: the one it names, else the lead's owner when written."""
    return event.data.get("rep", event.data.get("from_rep")) or event.lead.owner_id


RULES: dict[str, Rule] = {
    LeadEvent.Kind.ASSIGNED: _assigned,
    LeadEvent.Kind.REASSIGNED: _reassigned,
    LeadEvent.Kind.SUBMISSION_RECEIVED: _submission_received,
    SLA_REMINDER: _sla_reminder,
    SLA_BREACHED: _sla_breached,
    BACK_FROM_NURTURE: _back_from_nurture,
}


def events_heard(events: Sequence[LeadEvent]) -> int:
    """Tell whoever must hear of `events` (written or about to be, in this transaction);
    the number of notifications written."""
    batch = _Batch()
    notices = []
    for event in events:
        rule = RULES.get(event.kind)
        if rule is None:
            continue
        for recipient, kind, title in rule(event, batch):
            if recipient is None or recipient == event.actor_id:
                continue
            notices.append(_notice(event, recipient, kind, title, batch.lead_url))
    _tell_webhooks(events)
    return notices_send(notices, at=None) if notices else 0


# A stage move is told as the stage it reached; "routed" is told as the assignment.
_STAGE_KINDS = {
    "qualified": "lead.qualified",
    "disqualified": "lead.disqualified",
    "accepted": "lead.accepted",
    "rejected": "lead.rejected",
    "contacted": "lead.contacted",
    "opportunity": "lead.opportunity",
    "won": "lead.won",
    "lost": "lead.lost",
    "recycled": "lead.recycled",
}
WEBHOOK_KINDS = {
    LeadEvent.Kind.ASSIGNED: "lead.assigned",
    LeadEvent.Kind.REASSIGNED: "lead.reassigned",
    SLA_BREACHED: "lead.sla_breached",
}


def webhook_kind(event: LeadEvent) -> str | None:
    """What the webhooks call `event`, or None when they do not hear of it."""
    if event.kind == LeadEvent.Kind.STAGE_CHANGED:
        return _STAGE_KINDS.get(event.to_stage)
    if event.kind == LeadEvent.Kind.SUBMISSION_RECEIVED:
        return "lead.captured" if event.data.get("created") else None
    return WEBHOOK_KINDS.get(event.kind)


def _tell_webhooks(events: Sequence[LeadEvent]) -> None:
    told = [(kind, event) for event in events if (kind := webhook_kind(event))]
    if told:
        events_emit(((kind, partial(webhook_data, event)) for kind, event in told))


def webhook_data(event: LeadEvent) -> dict:
    """What a receiver gets: the lead as it stands after the event, and the event."""
    lead = event.lead
    path = reverse("inbox:lead", kwargs={"pk": event.lead_id})
    return {
        "lead": {
            "id": lead.pk,
            "email": lead.email,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "company": lead.company,
            "stage": lead.stage,
            "score": lead.score,
            "campaign": lead.campaign,
            "source_form": lead.source_form_id,
            "owner": lead.owner_id,
            "queue": lead.queue_id,
            "url": f"{settings.LEADBRIDGE_SITE_URL.rstrip('/')}{path}",
        },
        "event": {
            "kind": event.kind,
            "at": event.at.isoformat() if event.at else None,
            "actor": event.actor_id,
            "from_stage": event.from_stage,
            "to_stage": event.to_stage,
            "reason": event.reason,
            "reason_code": event.reason_code,
            "data": event.data,
        },
    }


def _notice(event: LeadEvent, recipient: int, kind: str, title: str, url) -> Notice:
    lead = event.lead
    return Notice(
        recipient_id=recipient,
        kind=kind,
        title=title.format(lead=_label(lead)),
        detail=event.reason,
        url=url(event.lead_id),
        lead_id=event.lead_id,
    )


def _label(lead: Lead) -> str:
    name = lead.name or str(lead)
    return f"{name} ({lead.company})" if lead.company else name
