"""The kinds of event an endpoint can subscribe to: the one registry the endpoint form, the
pages, the documentation and the senders read (Saleor's `webhook/event_types.py`).

The kernel (leads/audience.py) and the agreement service say which of these happened; this
app knows nothing of leads beyond these names and the JSON it is given.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    kind: str
    label: str
    description: str


EVENT_TYPES: dict[str, EventType] = {
    event.kind: event
    for event in (
        EventType("lead.captured", "Lead captured", "A new lead was created from a submission."),
        EventType("lead.qualified", "Lead qualified", "The active agreement qualified a lead."),
        EventType(
            "lead.disqualified",
            "Lead disqualified",
            "The active agreement did not qualify a lead (it went to nurture).",
        ),
        EventType("lead.assigned", "Lead assigned", "A queue gave a lead to a rep."),
        EventType("lead.reassigned", "Lead reassigned", "A lead changed hands."),
        EventType("lead.accepted", "Lead accepted", "A rep accepted a lead."),
        EventType("lead.rejected", "Lead rejected", "A rep sent a lead back, with a reason."),
        EventType("lead.contacted", "Lead contacted", "A rep first contacted a lead."),
        EventType("lead.opportunity", "Opportunity", "A lead became an opportunity (SQL)."),
        EventType("lead.sla_breached", "Service level breached", "A lead's due time passed."),
        EventType("lead.won", "Lead won", "A lead's deal was won."),
        EventType("lead.lost", "Lead lost", "A lead's deal was lost, with a reason."),
        EventType("lead.recycled", "Lead recycled", "A lead went back to nurture."),
        EventType(
            "agreement.activated",
            "Agreement activated",
            "Both managers signed an agreement version; it now judges leads.",
        ),
    )
}
# Sent by the test button alone; no endpoint subscribes to it.
TEST = EventType("webhook.test", "Test", "A test message sent from the endpoint's page.")

KIND_CHOICES = [(event.kind, event.label) for event in EVENT_TYPES.values()]
