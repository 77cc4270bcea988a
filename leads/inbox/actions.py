"""Every move a person makes on a lead, one row each. A row gives the move's button (label,
help, colour), its URL (`inbox:<name>`), who may take it, its form and the service it calls;
the lead page, the URLs and the view all read this table, so a new move is one row."""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import dateformat

from leads.inbox import forms
from leads.inbox.selectors import (
    CONTACT_AGAIN,
    FLAGGABLE,
    lead_was_qualified,
    may_note,
    may_recycle,
    may_work,
)
from leads.inbox.services import (
    lead_accept,
    lead_contact,
    lead_convert,
    lead_lose,
    lead_note_add,
    lead_recycle,
    lead_reject,
    lead_win,
)
from leads.lifecycle import IllegalMove, moves_from
from leads.models import ContactChannel, Lead, Stage
from leads.routing.selectors import REASSIGNABLE
from leads.routing.services import lead_reassign
from scoring.flags import lead_flag

WORK = "leads.work_lead"
MANAGE = "leads.reassign_lead"
SEE_ALL = "leads.view_all_leads"
ALL_STAGES = frozenset(Stage.values)


@dataclass(frozen=True)
class LeadAction:
    """One thing a person may do to a lead now, as the page draws it."""

    name: str
    label: str
    help: str
    to: str = ""  # the stage it moves the lead to; blank when the stage stays
    style: str = "primary"


@dataclass(frozen=True)
class StageKept:
    """The same move where it changes no stage (another contact; a plain reassignment)."""

    label: str
    help: str
    stages: frozenset[str]
    style: str = "secondary"


@dataclass(frozen=True)
class Action:
    name: str  # its URL (inbox:<name>) and its form's prefix
    label: str
    help: str
    form: type[forms.LeadForm]  # its fields are the keyword arguments of `do`
    do: Callable[..., object]  # the service: do(lead=, by=, **cleaned_data)
    perms: tuple[str, ...]  # a role holding none of these never takes it: 403 before all else
    may: Callable[..., bool]  # this person may take it on this lead: else 403
    done: Callable[[Lead, dict], str]  # what the page says afterwards
    to: str = ""  # offered while the lifecycle allows this move from the lead's stage
    stage_kept: StageKept | None = None
    within: frozenset[str] = ALL_STAGES  # never offered outside these stages
    refused: str = ""  # for a move that may change no stage: what it cannot be ("noted")
    style: str = "primary"  # the button's Bootstrap colour
    submit: str = ""  # the button's words under its form; blank says the label
    then: str = "lead"  # where the page goes afterwards: the lead, or back to the inbox
    # Final, or sends the lead away: asked on a confirmation page first (GET). {lead} is
    # the lead's name. Works without JavaScript, unlike a dialog.
    ask: str = ""
    # Offered only on a lead this holds of (the flag: a lead an agreement qualified).
    applies: Callable[[Lead], bool] | None = None
    # Its key in the inbox list, whose rows offer it too (a button, or a link to `ask`).
    key: str = ""

    def __post_init__(self):
        if not self.to and not self.refused:
            raise ValueError(f"{self.name}: a move that changes no stage says what it cannot be.")

    def offered(self, *, lead: Lead, user) -> LeadAction | None:
        """How the move reads to `user` on `lead` now, or None when it is not theirs to take."""
        if lead.stage not in self.within or not self.may(user=user, lead=lead):
            return None
        if self.applies is not None and not self.applies(lead):
            return None
        if self.to and self.to in moves_from(lead.stage):
            return LeadAction(self.name, self.label, self.help, self.to, self.style)
        kept = self.stage_kept
        if kept and lead.stage in kept.stages:
            return LeadAction(self.name, kept.label, kept.help, style=kept.style)
        if not self.to and not kept:
            return LeadAction(self.name, self.label, self.help, style=self.style)
        return None

    def refusal(self, lead: Lead) -> IllegalMove:
        """What the page says when the lead's stage no longer allows the move."""
        return IllegalMove(lead, doing=self.refused) if self.refused else IllegalMove(lead, self.to)


def _may_reassign(*, user, lead: Lead) -> bool:
    return user.has_perm(MANAGE)


ACTIONS: dict[str, Action] = {
    action.name: action
    for action in [
        Action(
            "accept",
            "Accept",
            "Take the lead and work it.",
            forms.AcceptForm,
            lead_accept,
            (WORK,),
            may_work,
            lambda lead, _: f"You accepted {lead}.",
            to=Stage.ACCEPTED,
            style="success",
            key="a",
        ),
        Action(
            "reject",
            "Reject",
            "Send it back to marketing with a reason.",
            forms.RejectForm,
            lead_reject,
            (WORK,),
            may_work,
            lambda lead, _: f"You rejected {lead}; marketing sees your reason.",
            to=Stage.REJECTED,
            style="danger",
            submit="Reject lead",
            then="list",
            ask="Reject {lead}?",
            key="r",
        ),
        Action(
            "contact",
            "Log first contact",
            "A call, an e-mail or a meeting with the lead.",
            forms.ContactForm,
            lead_contact,
            (WORK,),
            may_work,
            lambda lead, data: (
                f"Logged: {ContactChannel(data['channel']).label.lower()} with {lead}."
            ),
            to=Stage.CONTACTED,
            stage_kept=StageKept(
                "Log a contact", "Another call, e-mail or meeting.", CONTACT_AGAIN
            ),
            submit="Log contact",
        ),
        Action(
            "convert",
            "Convert to opportunity",
            "The lead has a need, a budget and a buyer.",
            forms.ConvertForm,
            lead_convert,
            (WORK,),
            may_work,
            lambda lead, _: f"{lead} is now an opportunity.",
            to=Stage.OPPORTUNITY,
        ),
        Action(
            "win",
            "Mark won",
            "The deal is signed.",
            forms.WinForm,
            lead_win,
            (WORK,),
            may_work,
            lambda lead, _: f"Won: {lead}. Well done.",
            to=Stage.WON,
            style="success",
            submit="Yes, mark won",
            ask="Mark {lead} as won?",
        ),
        Action(
            "lose",
            "Mark lost",
            "The deal will not happen; say why.",
            forms.LoseForm,
            lead_lose,
            (WORK,),
            may_work,
            lambda lead, _: f"{lead} is lost; the reason is recorded.",
            to=Stage.LOST,
            style="danger",
            submit="Yes, mark lost",
            ask="Mark {lead} as lost?",
        ),
        Action(
            "recycle",
            "Back to nurture",
            "Not ready yet: marketing nurtures it until the date you choose.",
            forms.RecycleForm,
            lead_recycle,
            (WORK, MANAGE),
            may_recycle,
            lambda lead, data: (
                f"{lead} is in nurture until {dateformat.format(data['until'], 'M j, Y')}."
            ),
            to=Stage.RECYCLED,
            style="secondary",
            submit="Send to nurture",
        ),
        Action(
            "reassign",
            "Re-route to a rep",
            "Give the lead to another rep, who finds it routed in their inbox.",
            forms.ReassignForm,
            lead_reassign,
            (MANAGE,),
            _may_reassign,
            lambda lead, data: f"{lead} now belongs to {data['to_rep']}.",
            to=Stage.ROUTED,
            stage_kept=StageKept("Reassign", "Give the lead to another rep.", REASSIGNABLE),
            within=REASSIGNABLE,
            refused="reassigned",
            style="secondary",
        ),
        Action(
            "flag",
            "Should not have qualified",
            "Tell marketing which criterion let it through, or that none fits.",
            forms.FlagForm,
            lead_flag,
            (WORK,),
            may_work,
            lambda lead, _: f"Flag sent: marketing sees it on the criterion. {lead} stays yours.",
            within=FLAGGABLE,
            refused="flagged",
            style="warning",
            submit="Send flag",
            applies=lead_was_qualified,
        ),
        Action(
            "note",
            "Add a note",
            "Visible to everyone who sees this lead.",
            forms.NoteForm,
            lead_note_add,
            (WORK, SEE_ALL),
            may_note,
            lambda lead, _: "Your note is in the lead's history.",
            refused="noted",
            submit="Add note",
        ),
    ]
}


def lead_actions(*, lead: Lead, user) -> list[LeadAction]:
    """What `user` may do to `lead` in its current stage, as the lifecycle allows it."""
    offers = (action.offered(lead=lead, user=user) for action in ACTIONS.values())
    return [offer for offer in offers if offer is not None]
