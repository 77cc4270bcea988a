"""The inbox's "Needs action": open leads by due time, each row saying what is due and why the
lead qualified; the other tabs, the filters and their counts; a fixed number of queries."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.clock import clocks_start
from leads.inbox.selectors import (
    DUE_SOON,
    NEEDS_ACTION,
    ON_TIME,
    OVERDUE,
    InboxFilters,
    inbox,
    time_left_words,
)
from leads.models import Stage
from leads.routing.escalation import leads_remind
from portal.accounts.roles import Role
from tests.factories import (
    AgreementFactory,
    CriterionFactory,
    FormFactory,
    LeadFactory,
    QueueFactory,
    UserFactory,
    judged,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return UserFactory(role=Role.SALES_REP)


@pytest.fixture
def now():
    return timezone.now()


def clocked(rep, now, *, started_min_ago, due_in_min, stage=Stage.ROUTED, **fields):
    """A lead of `rep` whose step began `started_min_ago` and falls due `due_in_min` from now,
    reminded (amber) half-way, the queues' default share."""
    started, due = now - timedelta(minutes=started_min_ago), now + timedelta(minutes=due_in_min)
    return LeadFactory(
        owner=rep,
        stage=stage,
        stage_changed_at=started,
        due_step="accept" if stage == Stage.ROUTED else "contact",
        due_at=due,
        due_soon_at=fields.pop("due_soon_at", started + (due - started) / 2),
        **fields,
    )


def names(box) -> list[str]:
    return [lead.company for lead in box.leads]


def test_needs_action_is_open_leads_overdue_first_then_due_soonest_then_no_clock(rep, now):
    LeadFactory(owner=rep, stage=Stage.CONTACTED, company="no clock")
    clocked(rep, now, started_min_ago=10, due_in_min=300, company="on time")
    clocked(rep, now, started_min_ago=120, due_in_min=-90, company="long overdue")
    clocked(rep, now, started_min_ago=200, due_in_min=30, stage=Stage.ACCEPTED, company="soon")
    clocked(rep, now, started_min_ago=60, due_in_min=-5, company="just overdue")
    for stage in (Stage.WON, Stage.LOST, Stage.RECYCLED, Stage.DISQUALIFIED, Stage.REJECTED):
        LeadFactory(owner=rep, stage=stage, company=stage)

    box = inbox(user=rep, filters=InboxFilters(), now=now)

    assert names(box) == ["long overdue", "just overdue", "soon", "on time", "no clock"]
    assert [lead.due_state for lead in box.leads] == [OVERDUE, OVERDUE, DUE_SOON, ON_TIME, ""]


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("won", {Stage.WON}),
        ("lost", {Stage.LOST}),
        ("nurture", {Stage.RECYCLED, Stage.DISQUALIFIED}),
        ("rejected", {Stage.REJECTED}),
    ],
)
def test_done_sent_back_and_nurtured_leads_have_tabs_of_their_own(rep, now, tab, expected):
    for stage in Stage.values:
        LeadFactory(owner=rep, stage=stage, company=stage)
    box = inbox(user=rep, filters=InboxFilters(tab=tab), now=now)
    assert set(names(box)) == expected
    needs = inbox(user=rep, filters=InboxFilters(), now=now)
    assert not set(names(needs)) & expected
    counts = {tab.name: count for tab, count in box.tabs}
    assert counts == {
        NEEDS_ACTION: 4,  # routed, accepted, contacted, opportunity
        "rejected": 1,
        "won": 1,
        "lost": 1,
        "nurture": 2,
        "all": len(Stage.values),
    }


@pytest.mark.parametrize(
    ("percent", "minutes", "state"),
    [
        (80, 47, ON_TIME),  # 47 of the step's 60 working minutes gone: under its 80 %
        (80, 48, DUE_SOON),  # the queue's reminder share reached: amber
        (25, 16, DUE_SOON),  # another queue, another share
        (0, 59, ON_TIME),  # a queue that never reminds shows no amber
        (80, 60, OVERDUE),  # due now
    ],
)
def test_a_clock_is_due_soon_from_its_queues_reminder_share_and_overdue_once_due(
    rep, percent, minutes, state
):
    AgreementFactory(accept_within_minutes=60, **EVERY_HOUR)
    queue = QueueFactory(remind_percent=percent)
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        lead = routed_to(rep, queue)
    with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
        assert _due_state(rep) == state
        if state == DUE_SOON:  # the ladder's reminder goes, and the lead stays amber
            assert leads_remind(limit=10) == 1
            lead.refresh_from_db()
            assert lead.remind_at is None
            assert _due_state(rep) == DUE_SOON


def _due_state(rep) -> str:
    return inbox(user=rep, filters=InboxFilters(), now=timezone.now()).leads.get().due_state


EVERY_HOUR = {
    "business_days": list(range(7)),
    "business_opens": time(0),
    "business_closes": time(23, 59),
}


def routed_to(rep, queue):
    """A lead routed to `rep` through `queue` now, its clock started."""
    lead = LeadFactory(owner=rep, queue=queue, stage=Stage.ROUTED, company="clocked")
    clocks_start([lead], at=timezone.now())
    lead.save()
    return lead


def test_time_left_reads_as_words():
    now = timezone.now()
    assert time_left_words(None, now) == ""
    assert time_left_words(now + timedelta(minutes=125, seconds=5), now) == "2 h 5 min left"
    assert time_left_words(now - timedelta(minutes=35), now) == "35 min overdue"
    assert time_left_words(now + timedelta(days=2, hours=3), now) == "2 d 3 h left"
    assert time_left_words(now + timedelta(seconds=20), now) == "under a minute left"


def test_filters_by_stage_queue_form_and_due_state_each_with_counts(rep, now):
    north, south = QueueFactory(name="North"), QueueFactory(name="South")
    webinar, demo = FormFactory(name="Webinar"), FormFactory(name="Demo request")
    clocked(rep, now, started_min_ago=60, due_in_min=-1, queue=north, source_form=webinar)
    clocked(rep, now, started_min_ago=60, due_in_min=10, queue=north, source_form=demo)
    clocked(rep, now, started_min_ago=5, due_in_min=300, queue=south, source_form=demo)
    LeadFactory(owner=rep, stage=Stage.OPPORTUNITY, queue=south, source_form=webinar)

    def facets(**chosen):
        box = inbox(user=rep, filters=InboxFilters(**chosen), now=now)
        counted = {f.name: {label: n for _v, label, n in f.choices} for f in box.facets}
        return names(box), counted

    _all, counts = facets()
    assert counts["queue"] == {"North": 2, "South": 2}
    assert counts["form"] == {"Demo request": 2, "Webinar": 2}
    assert counts["due"] == {"Overdue": 1, "Due soon": 1, "On time": 1}
    assert counts["stage"] == {"Routed": 3, "Accepted": 0, "Contacted": 0, "Opportunity (SQL)": 1}

    # One filter chosen: the others count within it; its own still counts every choice.
    shown, counts = facets(queue=north.pk)
    assert len(shown) == 2
    assert counts["queue"] == {"North": 2, "South": 2}
    assert counts["due"] == {"Overdue": 1, "Due soon": 1, "On time": 0}
    assert counts["form"] == {"Demo request": 1, "Webinar": 1}

    shown, _counts = facets(due=OVERDUE)
    assert len(shown) == 1
    shown, _counts = facets(form=webinar.pk, stage=Stage.OPPORTUNITY)
    assert len(shown) == 1
    assert facets(form=demo.pk, due=ON_TIME, queue=south.pk)[0] != []


def test_a_manager_filters_their_own_list_and_each_reps_with_counts(rep, now):
    manager = UserFactory(role=Role.SALES_MANAGER, first_name="Mia", last_name="Manager")
    clocked(rep, now, started_min_ago=60, due_in_min=-1)
    clocked(rep, now, started_min_ago=60, due_in_min=10)
    clocked(manager, now, started_min_ago=60, due_in_min=-5, company="handed")  # by the ladder

    box = inbox(user=manager, filters=InboxFilters(), now=now)
    [owners] = [facet for facet in box.facets if facet.name == "owner"]
    assert owners.choices[0] == (str(manager.pk), "Mine", 1)
    assert (str(rep.pk), 2) in [(value, n) for value, _label, n in owners.choices]
    mine = inbox(user=manager, filters=InboxFilters.read({"owner": str(manager.pk)}), now=now)
    assert names(mine) == ["handed"]
    # A rep's inbox is their own already: no such filter.
    assert "owner" not in [f.name for f in inbox(user=rep, filters=InboxFilters(), now=now).facets]


def test_filters_read_from_the_query_string_ignore_what_they_do_not_know():
    filters = InboxFilters.read(
        {"tab": "nope", "stage": "flying", "queue": "x", "form": "7", "due": "late", "q": " a "}
    )
    assert filters == InboxFilters(tab=NEEDS_ACTION, form=7, search="a")
    assert InboxFilters.read({"queue": "9" * 30}).queue is None


@pytest.mark.parametrize(
    ("stage", "tab"),
    [
        (Stage.RECYCLED, "nurture"),
        (Stage.WON, "won"),
        (Stage.ROUTED, NEEDS_ACTION),
        (Stage.QUALIFIED, "all"),
    ],
)
def test_a_link_to_a_stage_opens_the_tab_that_lists_it(client, rep, stage, tab):
    """The dashboard and an import's report link to `/leads/?stage=...`."""
    lead = LeadFactory(owner=rep, stage=stage)
    client.force_login(rep)
    response = client.get(reverse("inbox:list"), {"stage": stage})
    assert response.context["filters"].tab == tab
    assert list(response.context["page"].object_list) == [lead]


def test_a_filter_no_database_could_read_is_no_filter(client, rep):
    client.force_login(rep)
    response = client.get(reverse("inbox:list"), {"queue": "9" * 30, "form": "-1"})
    assert response.status_code == 200


def test_a_row_shows_time_left_in_red_score_why_it_qualified_source_and_campaign(client, rep, now):
    agreement = AgreementFactory(criteria=False)
    size = CriterionFactory(agreement=agreement, label="At least 50 people")
    country = CriterionFactory(
        agreement=agreement,
        label="In the territory",
        kind="scoring",
        attribute="country",
        operator="in",
        value=["BR"],
        points=20,
    )
    budget = CriterionFactory(agreement=agreement, label="Has a budget", kind="scoring", points=5)
    lead = clocked(
        rep,
        now,
        started_min_ago=60,
        due_in_min=-30,
        score=20,
        campaign="Spring webinar",
        source_form=FormFactory(name="Webinar sign-up"),
    )
    judged(lead, agreement, {size: 0, country: 20}, failed=[budget])
    client.force_login(rep)

    html = client.get(reverse("inbox:list")).content.decode()

    row = html[html.index(f'data-lead="{lead.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "due-overdue" in html[html.index(f'data-lead="{lead.pk}"') - 60 :][:80]
    assert '<span class="badge text-bg-danger">30 min overdue</span>' in row
    assert '<td data-label="Score">20</td>' in row
    assert "In the territory (+20) · At least 50 people" in row
    assert "Has a budget" not in row
    assert "Webinar sign-up" in row and "Spring webinar" in row


def test_the_tab_title_counts_the_new_assignments(client, rep, now):
    clocked(rep, now, started_min_ago=1, due_in_min=60)
    clocked(rep, now, started_min_ago=1, due_in_min=60)
    LeadFactory(owner=rep, stage=Stage.ACCEPTED)
    client.force_login(rep)
    html = client.get(reverse("inbox:list")).content.decode()
    assert "<title>(2) My inbox · LeadBridge</title>" in html


def test_polling_gets_the_rows_and_the_title_alone(client, rep, now):
    lead = clocked(rep, now, started_min_ago=1, due_in_min=60)
    client.force_login(rep)
    response = client.get(reverse("inbox:list"), {"tab": NEEDS_ACTION}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.templates[0].name == "inbox/_results.html"
    assert html.lstrip().startswith("<title>(1) My inbox · LeadBridge</title>")
    assert "<html" not in html and "inbox-filters" not in html
    assert f'data-lead="{lead.pk}"' in html
    assert 'hx-trigger="every 20s"' in html and 'hx-get="/leads/?tab=needs_action"' in html


def test_polling_brings_the_bells_count_out_of_band(client, rep, now):
    from portal.notifications.models import Kind
    from portal.notifications.services import Notice, notices_send

    client.force_login(rep)
    polled = {"tab": NEEDS_ACTION}
    html = client.get(reverse("inbox:list"), polled, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="bell" href="/notifications/" hx-swap-oob="true"' in html
    assert 'id="bell-count"' not in html
    notices_send([Notice(recipient_id=rep.pk, kind=Kind.LEAD_ASSIGNED, title="A lead")])

    html = client.get(reverse("inbox:list"), polled, HTTP_HX_REQUEST="true").content.decode()
    assert '<span class="badge rounded-pill text-bg-danger" id="bell-count">1<' in html
    page = client.get(reverse("inbox:list")).content.decode()
    assert page.count('id="bell"') == 1 and "hx-swap-oob" not in page  # drawn once, in place


def test_the_page_works_without_javascript_and_loads_no_inline_script(client, rep, now):
    client.force_login(rep)
    html = client.get(reverse("inbox:list")).content.decode()
    assert '<script src="/static/vendor/htmx/htmx.min.js"></script>' in html
    assert "<script>" not in html and " on" + "click=" not in html
    assert 'class="table table-hover bg-white align-middle lb-stack"' not in html  # no rows yet
    clocked(rep, now, started_min_ago=1, due_in_min=60)
    html = client.get(reverse("inbox:list")).content.decode()
    assert 'class="table table-hover bg-white align-middle lb-stack"' in html
    assert html.count('data-label="Time left"') == 1


def test_a_routed_row_offers_accept_and_reject_from_the_action_table(client, rep, now):
    routed = clocked(rep, now, started_min_ago=1, due_in_min=60)
    accepted = LeadFactory(owner=rep, stage=Stage.ACCEPTED)
    client.force_login(rep)
    html = client.get(reverse("inbox:list")).content.decode()
    row = html[html.index(f'data-lead="{routed.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f'action="{reverse("inbox:accept", args=[routed.pk])}"' in row
    assert 'data-key="a"' in row
    assert f'href="{reverse("inbox:reject", args=[routed.pk])}"' in row
    assert 'data-key="r"' in row
    other = html[html.index(f'data-lead="{accepted.pk}"') :]
    assert "data-key=" not in other[: other.index("</tr>")]


def test_accepting_from_the_list_comes_back_to_it_and_never_to_another_site(client, rep, now):
    first, second = (clocked(rep, now, started_min_ago=1, due_in_min=60) for _ in range(2))
    client.force_login(rep)
    back = reverse("inbox:list") + "?tab=needs_action&due=on_time"
    response = client.post(reverse("inbox:accept", args=[first.pk]), {"next": back})
    assert response.status_code == 302
    assert response["Location"] == back
    response = client.post(
        reverse("inbox:accept", args=[second.pk]), {"next": "https://evil.example/leads/"}
    )
    assert response["Location"] == second.get_absolute_url()


def test_a_manager_sees_every_reps_open_leads_with_their_owner(client, rep, now):
    clocked(rep, now, started_min_ago=1, due_in_min=60, company="Rep's")
    clocked(UserFactory(role=Role.SALES_REP), now, started_min_ago=1, due_in_min=9, company="B")
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    response = client.get(reverse("inbox:list"))
    assert [lead.company for lead in response.context["page"].object_list] == ["B", "Rep's"]
    assert 'data-label="Owner"' in response.content.decode()
    assert "data-key=" not in response.content.decode()  # a manager does not work them


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("inbox:list")).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_for_two_leads_as_for_twenty(client, rep, now):
    agreement = AgreementFactory()
    criterion = agreement.criteria.get()
    queue, form = QueueFactory(), FormFactory()

    def add(count):
        for _ in range(count):
            lead = clocked(
                rep, now, started_min_ago=5, due_in_min=60, queue=queue, source_form=form
            )
            judged(lead, agreement, {criterion: 0})

    add(2)
    client.force_login(rep)
    few = _queries(client)
    add(18)
    assert _queries(client) == few
