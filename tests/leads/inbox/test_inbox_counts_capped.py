"""Every count of the inbox stops at a cap: a tab past it says "N+", its filters list their
choices without counts and its pages end at the cap. A manager's 427,000 open leads took
seven counts of 0.14-2.7 s each to say how many there were."""

import pytest
from django.urls import reverse
from django.utils import timezone

from leads.inbox import selectors
from leads.inbox.selectors import NEEDS_ACTION, InboxFilters, inbox
from leads.models import Stage
from portal.accounts.roles import Role
from tests.factories import FormFactory, LeadFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cap(monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    return 3


def _leads(count, **fields):
    rep = fields.pop("owner", None) or UserFactory(role=Role.SALES_REP)
    return [LeadFactory(owner=rep, stage=Stage.ROUTED, **fields) for _ in range(count)]


def test_a_tab_past_the_cap_counts_to_the_cap_and_its_filters_list_every_choice_uncounted(cap):
    queue, form = QueueFactory(name="North"), FormFactory(name="Demo request")
    idle = QueueFactory(name="Idle")  # no lead in it: listed from the queues, not the leads
    _leads(cap + 2, queue=queue, source_form=form)
    manager = UserFactory(role=Role.SALES_MANAGER)
    box = inbox(user=manager, filters=InboxFilters(), now=timezone.now())
    assert dict((tab.name, n) for tab, n in box.tabs)[NEEDS_ACTION] == cap + 1
    assert box.capped
    choices = {facet.name: facet.choices for facet in box.facets}
    assert (str(idle.pk), "Idle", None) in choices["queue"]
    assert (str(form.pk), "Demo request", None) in choices["form"]
    assert all(n is None for facet in box.facets for _v, _label, n in facet.choices)


def test_a_tab_under_the_cap_counts_exactly(cap):
    queue = QueueFactory(name="North")
    _leads(cap, queue=queue)
    manager = UserFactory(role=Role.SALES_MANAGER)
    box = inbox(user=manager, filters=InboxFilters(), now=timezone.now())
    assert dict((tab.name, n) for tab, n in box.tabs)[NEEDS_ACTION] == cap
    assert not box.capped
    queues = next(facet for facet in box.facets if facet.name == "queue").choices
    assert queues == [(str(queue.pk), "North", cap)]


def test_the_page_of_a_list_past_the_cap_says_n_plus_and_pages_only_the_first(
    client, cap, monkeypatch
):
    from leads.inbox import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _leads(cap + 3, queue=QueueFactory(name="North"))
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    response = client.get(reverse("inbox:list"))
    html = response.content.decode()
    assert f"{cap:,}+</span>" in html
    assert f"Showing the first {cap:,} — filter to narrow the list" in html
    assert ">North</option>" in html
    assert response.context["page"].paginator.count == cap
    assert response.context["page"].paginator.num_pages == 2
    last = client.get(reverse("inbox:list") + "?page=9").context["page"]
    assert last.number == 2 and len(last.object_list) == cap - 2


def test_a_list_under_the_cap_shows_its_exact_counts(client, cap):
    rep = UserFactory(role=Role.SALES_REP)
    _leads(cap, owner=rep, queue=QueueFactory(name="North"))
    client.force_login(rep)
    html = client.get(reverse("inbox:list")).content.decode()
    assert f"{cap} leads" in html
    assert f">North ({cap})</option>" in html
    assert "+</span>" not in html and "Showing the first" not in html


def test_the_queue_and_form_filters_list_their_choices_by_name_counted_or_not(cap):
    zeta, alpha = QueueFactory(name="Zeta"), QueueFactory(name="Alpha")  # Zeta's id first
    late, early = FormFactory(name="Webinar"), FormFactory(name="Demo request")
    rep = UserFactory(role=Role.SALES_REP)
    _leads(1, owner=rep, queue=zeta, source_form=late)
    _leads(1, owner=rep, queue=alpha, source_form=early)
    manager = UserFactory(role=Role.SALES_MANAGER)

    def shown() -> dict[str, list[tuple[str, int | None]]]:
        box = inbox(user=manager, filters=InboxFilters(), now=timezone.now())
        return {f.name: [(label, n) for _v, label, n in f.choices] for f in box.facets}

    under = shown()
    assert under["queue"] == [("Alpha", 1), ("Zeta", 1)]
    assert under["form"] == [("Demo request", 1), ("Webinar", 1)]
    _leads(cap, owner=rep, queue=zeta, source_form=late)
    past = shown()
    assert past["queue"] == [("Alpha", None), ("Zeta", None)]
    assert past["form"] == [("Demo request", None), ("Webinar", None)]


def test_the_owner_filter_finds_the_leads_of_someone_who_left_counted_or_not(cap):
    gone = UserFactory(role=Role.SALES_REP, first_name="Gil", last_name="Gone")
    UserFactory(role=Role.SALES_REP, first_name="Ivo", last_name="Idle", is_active=False)
    rep = UserFactory(role=Role.SALES_REP, first_name="Ana", last_name="Active")
    _leads(1, owner=gone)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    manager = UserFactory(role=Role.SALES_MANAGER)

    def owners() -> list[tuple[str, int | None]]:
        box = inbox(user=manager, filters=InboxFilters(), now=timezone.now())
        facet = next(facet for facet in box.facets if facet.name == "owner")
        return [(label, n) for _v, label, n in facet.choices]

    assert owners() == [("Mine", 0), ("Gil Gone (inactive)", 1)]
    _leads(cap, owner=rep)
    # Past the cap: the reps who can be given leads, and whoever switched off still owns some
    # (not Ivo, who owns none).
    assert owners() == [("Mine", None), ("Ana Active", None), ("Gil Gone (inactive)", None)]
