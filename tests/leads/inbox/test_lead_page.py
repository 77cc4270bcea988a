"""The lead page offers the moves the lifecycle allows from the lead's stage to the person
looking, and the server takes exactly those."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.inbox.actions import ACTIONS
from leads.inbox.services import (
    lead_accept,
    lead_contact,
    lead_convert,
    lead_lose,
    lead_note_add,
    lead_recycle,
    lead_reject,
)
from leads.models import ContactChannel, LostReason, RejectionReason, Stage
from leads.routing.services import lead_reassign
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

S = Stage
WORKED = {S.ROUTED, S.ACCEPTED, S.CONTACTED, S.OPPORTUNITY}
# What each person is offered in each stage, written out by hand from the glossary.
OFFERED = {
    "owner": {
        S.ROUTED: {"accept", "reject"},
        S.ACCEPTED: {"contact", "lose", "recycle"},
        S.REJECTED: {"recycle"},
        S.CONTACTED: {"contact", "convert", "lose", "recycle"},
        S.OPPORTUNITY: {"contact", "win", "lose", "recycle"},
    },
    "manager": {
        **{stage: {"reassign"} for stage in WORKED},
        S.REJECTED: {"recycle", "reassign"},
    },
    "marketer": {},
}
ROLES = {"owner": Role.SALES_REP, "manager": Role.SALES_MANAGER, "marketer": Role.MARKETER}


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Souza")


def person(who, rep):
    return rep if who == "owner" else UserFactory(role=ROLES[who])


def offered_on(page, lead) -> set[str]:
    """The moves the page links or posts to, read from its HTML."""
    urls = re.findall(rf'(?:action|href)="/leads/{lead.pk}/(\w+)/"', page.content.decode())
    return set(urls)


def valid_post(name, lead):
    other_rep = UserFactory(role=Role.SALES_REP)
    tomorrow = timezone.localdate() + timedelta(days=1)
    return {
        "accept": {},
        "reject": {"reject-reason": RejectionReason.NO_BUDGET},
        "contact": {"contact-channel": ContactChannel.CALL},
        "convert": {},
        "win": {},
        "lose": {"lose-reason": LostReason.PRICE},
        "recycle": {"recycle-until": tomorrow.isoformat()},
        "note": {"note-text": "Spoke to marketing about it."},
        "reassign": {"reassign-to_rep": other_rep.pk, "reassign-reason": "Cover."},
        # Offered only on a lead an agreement qualified (none here): tests/leads/inbox/test_flags.py
        "flag": {"flag-criterion": "none", "flag-comment": "A student."},
    }[name]


@pytest.mark.parametrize("who", OFFERED)
@pytest.mark.parametrize("stage", Stage.values)
def test_the_page_offers_exactly_the_allowed_moves_and_a_note(client, rep, who, stage):
    lead = LeadFactory(stage=stage, owner=rep)
    client.force_login(person(who, rep))
    page = client.get(lead.get_absolute_url())
    expected = OFFERED[who].get(stage, set())
    assert {panel.action.name for panel in page.context["moves"]} == expected
    assert page.context["note"].action.name == "note"
    assert offered_on(page, lead) == expected | {"note"}


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("who", OFFERED)
@pytest.mark.parametrize("stage", Stage.values)
def test_the_server_takes_a_move_exactly_when_the_page_offers_it(client, rep, who, stage, name):
    lead = LeadFactory(stage=stage, owner=rep)
    client.force_login(person(who, rep))
    offered = name in OFFERED[who].get(stage, set()) | {"note"}
    response = client.post(reverse(f"inbox:{name}", args=[lead.pk]), valid_post(name, lead))
    if offered:
        assert response.status_code == 302
        assert lead.events.exists()
    else:
        # Theirs to take, but not from this stage: a conflict. Never theirs: forbidden.
        theirs = (who, name) in {("manager", "reassign")} or (
            who == "owner" and name not in {"reassign", "note"}
        )
        assert response.status_code == (409 if theirs else 403)
        assert not lead.events.exists()


def test_a_final_stage_says_the_lead_does_not_move_again(client, rep):
    lead = LeadFactory(stage=Stage.WON, owner=rep)
    client.force_login(rep)
    assert (
        b"This lead is won: it does not move again." in client.get(lead.get_absolute_url()).content
    )


def test_a_recycled_lead_shows_when_it_comes_back(client, rep):
    lead = LeadFactory(stage=Stage.ACCEPTED, owner=rep)
    until = timezone.localdate() + timedelta(days=40)
    lead_recycle(lead=lead, by=rep, until=until)
    client.force_login(rep)
    html = client.get(lead.get_absolute_url()).content.decode()
    shown = f"{until:%b} {until.day}, {until.year}"
    assert f'In nurture until <time datetime="{until.isoformat()}">{shown}</time>' in html


def test_the_history_says_every_kind_of_event_in_words(client, rep):
    bruno = UserFactory(role=Role.SALES_REP, first_name="Bruno", last_name="Lima")
    manager = UserFactory(role=Role.SALES_MANAGER, first_name="Sara", last_name="Salles")
    lead = LeadFactory(stage=Stage.ROUTED, owner=rep)
    lead_reject(lead=lead, by=rep, reason=RejectionReason.WRONG_TERRITORY)
    lead_reassign(lead=lead, to_rep=bruno, by=manager, reason="Bruno covers it.")
    lead_accept(lead=lead, by=bruno)
    lead_contact(lead=lead, by=bruno, channel=ContactChannel.CALL, note="Spoke to the CFO.")
    lead_contact(lead=lead, by=bruno, channel=ContactChannel.MEETING)
    lead_convert(lead=lead, by=bruno)
    lead_note_add(lead=lead, by=manager, text="Big account.\nHandle with care.")
    lead_lose(lead=lead, by=bruno, reason=LostReason.COMPETITOR)
    client.force_login(manager)

    page = client.get(lead.get_absolute_url())

    entries = [(e.title, e.actor, e.details) for e in page.context["timeline"]]
    assert entries == [
        ("Routed → Rejected", "Ana Souza", ("Reason: Wrong territory",)),
        ("Rejected → Routed", "Sara Salles", ()),
        ("Reassigned from Ana Souza to Bruno Lima", "Sara Salles", ()),
        ("Routed → Accepted", "Bruno Lima", ()),
        ("Accepted → Contacted", "Bruno Lima", ("Channel: Call",)),
        ("Meeting logged", "Bruno Lima", ("Channel: Meeting",)),
        ("Contacted → Opportunity (SQL)", "Bruno Lima", ()),
        ("Note", "Sara Salles", ()),
        ("Opportunity (SQL) → Lost", "Bruno Lima", ("Reason: Chose a competitor",)),
    ]
    html = page.content.decode()
    assert "Big account.<br>Handle with care." in html
    first = page.context["timeline"][0].at
    assert f'<time datetime="{first.isoformat()}">' in html


def test_the_history_names_the_rep_a_queue_assigned(client, rep):
    from leads.routing.services import lead_route
    from tests.factories import queue_with_reps

    queue_with_reps(rep, name="Brazil")
    lead = LeadFactory(stage=Stage.QUALIFIED)
    lead_route(lead_id=lead.pk)
    client.force_login(rep)
    titles = [e.title for e in client.get(lead.get_absolute_url()).context["timeline"]]
    assert titles == ["Qualified (MQL) → Routed", "Assigned to Ana Souza"]


def test_the_lead_page_reads_the_same_number_of_rows_for_a_long_history(client, rep):
    lead = LeadFactory(stage=Stage.OPPORTUNITY, owner=rep)
    client.force_login(rep)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(lead.get_absolute_url()).status_code == 200
        return len(captured)

    lead_contact(lead=lead, by=rep, channel=ContactChannel.CALL)
    short = queries()
    for _ in range(20):
        lead_contact(lead=lead, by=rep, channel=ContactChannel.EMAIL)
        lead_note_add(lead=lead, by=rep, text="More.")
    assert queries() == short
