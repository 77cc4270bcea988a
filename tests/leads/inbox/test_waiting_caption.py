"""The list's caption says how many routed leads wait for an accept or reject, and whose:
a rep's own ("for you"), every rep's for a manager, who accepts none of them. Capped like
every count of the list: past the cap, "1,000+"."""

import re

import pytest
from django.urls import reverse

from leads.inbox import selectors
from leads.models import Lead, Stage
from portal.accounts.roles import Role
from tests.factories import FormFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def _caption(client, user) -> str:
    client.force_login(user)
    html = client.get(reverse("inbox:list")).content.decode()
    caption = re.search(r"<caption>(.*?)</caption>", html, re.S).group(1)
    return re.sub(r"<[^>]+>", "", caption)


def _title(client) -> str:
    html = client.get(reverse("inbox:list")).content.decode()
    return re.search(r"<title>\s*(.*?)\s*</title>", html, re.S).group(1)


@pytest.fixture
def ana_and_bo():
    ana, bo = UserFactory.create_batch(2, role=Role.SALES_REP)
    for rep, stages in [(ana, ["routed", "routed", "accepted"]), (bo, ["routed", "contacted"])]:
        for stage in stages:
            LeadFactory(owner=rep, stage=stage)
    return ana, bo


def test_a_rep_is_told_how_many_of_their_own_leads_wait_for_them(client, ana_and_bo):
    ana, _bo = ana_and_bo
    caption = _caption(client, ana)
    assert caption.endswith("· 2 waiting for you to accept or reject")
    assert "new" not in caption
    assert _title(client).startswith("(2) My inbox")


def test_a_manager_is_told_every_reps_routed_leads_and_never_that_they_wait_for_her(
    client, ana_and_bo
):
    manager = UserFactory(role=Role.SALES_MANAGER)
    caption = _caption(client, manager)
    assert caption.endswith("· 3 routed, waiting to be accepted or rejected")
    assert "for you" not in caption and "new" not in caption


def test_past_the_cap_the_caption_says_1000_plus(client):
    rep = UserFactory(role=Role.SALES_REP)
    form = FormFactory()
    Lead.objects.bulk_create(
        Lead(email=f"lead{n}@acme.example", source_form=form, owner=rep, stage=Stage.ROUTED)
        for n in range(selectors.COUNT_CAP + 1)
    )
    assert selectors.COUNT_CAP == 1_000
    assert _caption(client, rep).endswith("· 1,000+ waiting for you to accept or reject")
    assert _title(client).startswith("(1,000+) My inbox")
    manager = UserFactory(role=Role.SALES_MANAGER)
    assert _caption(client, manager).endswith("· 1,000+ routed, waiting to be accepted or rejected")


def test_at_the_cap_the_caption_counts_exactly(client):
    rep = UserFactory(role=Role.SALES_REP)
    form = FormFactory()
    Lead.objects.bulk_create(
        Lead(email=f"lead{n}@acme.example", source_form=form, owner=rep, stage=Stage.ROUTED)
        for n in range(selectors.COUNT_CAP)
    )
    assert _caption(client, rep).endswith("· 1,000 waiting for you to accept or reject")
    assert _title(client).startswith("(1,000) My inbox")
