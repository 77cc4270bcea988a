"""A move on a lead is one row of `ACTIONS`: the row alone gives the page its button, the
move its URL, the permission and the service it calls."""

import importlib
from dataclasses import replace

import pytest
from django.urls import clear_url_caches, reverse

import portal.urls
from leads.inbox import forms, urls
from leads.inbox.actions import ACTIONS, Action
from leads.inbox.selectors import may_work
from leads.models import Stage
from portal.accounts.roles import Role
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP)


@pytest.fixture
def flagged(monkeypatch):
    """A move that exists nowhere but in one new row of the table."""
    calls = []

    def lead_flag(*, lead, by, text):
        calls.append((lead, by, text))

    row = Action(
        "review",
        "Flag for review",
        "Ask a manager to look at it.",
        forms.NoteForm,
        lead_flag,
        ("leads.work_lead",),
        may_work,
        lambda lead, data: f"Flagged {lead}.",
        within=frozenset({Stage.ACCEPTED}),
        refused="flagged",
        style="warning",
    )
    monkeypatch.setitem(ACTIONS, "review", row)
    _reload_urls()
    yield calls
    monkeypatch.undo()
    _reload_urls()


def _reload_urls():
    """The inbox's URLs are read from the table when they load; the project's include of
    them keeps its own resolver, so both are loaded again."""
    importlib.reload(urls)
    importlib.reload(portal.urls)
    clear_url_caches()


def test_a_new_row_is_a_button_a_url_a_permission_and_a_service_call(client, rep, flagged):
    lead = LeadFactory(stage=Stage.ACCEPTED, owner=rep)
    client.force_login(rep)

    page = client.get(lead.get_absolute_url())
    flag = next(panel for panel in page.context["moves"] if panel.action.name == "review")
    assert (flag.action.label, flag.action.style) == ("Flag for review", "warning")
    assert f'action="{reverse("inbox:review", args=[lead.pk])}"' in page.content.decode()

    response = client.post(reverse("inbox:review", args=[lead.pk]), {"review-text": "Odd budget."})
    assert response.status_code == 302
    assert flagged == [(lead, rep, "Odd budget.")]

    client.force_login(UserFactory(role=Role.MARKETER))
    assert (
        client.post(reverse("inbox:review", args=[lead.pk]), {"review-text": "x"}).status_code
        == 403
    )
    assert len(flagged) == 1


def test_a_row_outside_its_stages_is_neither_offered_nor_taken(client, rep, flagged):
    lead = LeadFactory(stage=Stage.ROUTED, owner=rep)
    client.force_login(rep)

    page = client.get(lead.get_absolute_url())
    assert "review" not in {panel.action.name for panel in page.context["moves"]}
    response = client.post(reverse("inbox:review", args=[lead.pk]), {"review-text": "Odd."})
    assert response.status_code == 409
    said = [str(message) for message in response.context["messages"]]
    assert said == [f"{lead} is routed: it cannot be flagged. Nothing changed."]
    assert flagged == []


def test_a_rows_words_and_colour_are_what_the_button_shows(client, rep, monkeypatch):
    lead = LeadFactory(stage=Stage.ROUTED, owner=rep)
    client.force_login(rep)
    monkeypatch.setitem(ACTIONS, "accept", replace(ACTIONS["accept"], label="Take it"))

    page = client.get(lead.get_absolute_url()).content.decode()

    assert '<button class="btn btn-success" type="submit"' in page
    assert ">Take it</button>" in page
