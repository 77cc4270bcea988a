"""The lists: a fixed number of queries however many rows, cursor pages, filters and
ordering, and bad parameters answered in the error shape, naming the parameter."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.models import Stage, Submission
from portal.accounts.roles import Role
from portal.integrations.api.services import token_create
from scoring.models import Agreement
from tests.error_shape import assert_error_json
from tests.factories import CriterionFactory, LeadFactory, QueueFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rows(n: int, owner) -> None:
    for _ in range(n):
        lead = LeadFactory(stage=Stage.ROUTED, owner=owner)
        Submission.objects.create(form=lead.source_form, lead=lead, payload={"email": lead.email})
        lead.events.create(kind="note", reason="A note.", actor=owner)
        queue = QueueFactory()
        queue.members.create(rep=owner)
        agreement = Agreement.objects.create(version=Agreement.objects.count() + 1)
        CriterionFactory(agreement=agreement)


def _queries(client, url: str, headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


LISTS = [
    "api:lead-list",
    "api:submission-list",
    "api:event-list",
    "api:form-list",
    "api:agreement-list",
    "api:queue-list",
]


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("role", [Role.SALES_REP, Role.SALES_MANAGER])
def test_a_list_takes_as_many_queries_for_twelve_rows_as_for_two(name, role):
    user = UserFactory(role=role)
    rep = user if role == Role.SALES_REP else UserFactory(role=Role.SALES_REP)
    if role == Role.SALES_REP and name in ("api:form-list", "api:queue-list"):
        pytest.skip("not a rep's list (403)")
    headers = {"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"}
    client = Client()
    _rows(2, rep)
    _queries(client, reverse(name), headers)  # the token's first use is written once
    few = _queries(client, reverse(name), headers)
    _rows(10, rep)
    assert _queries(client, reverse(name), headers) == few
    assert few <= 8


def test_the_leads_come_in_cursor_pages_without_repeats():
    rep = UserFactory(role=Role.SALES_REP)
    leads = [LeadFactory(stage=Stage.ROUTED, owner=rep) for _ in range(7)]
    headers = {"Authorization": f"Bearer {token_create(user=rep, name='t')[1]}"}
    client = Client()
    url, seen = reverse("api:lead-list") + "?page_size=3", []
    while url:
        body = client.get(url, headers=headers).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert seen == sorted((lead.pk for lead in leads), reverse=True)


def test_the_leads_filter_by_stage_and_order_by_creation():
    manager = UserFactory(role=Role.SALES_MANAGER)
    routed = LeadFactory(stage=Stage.ROUTED)
    LeadFactory(stage=Stage.WON)
    later = LeadFactory(stage=Stage.ROUTED)
    headers = {"Authorization": f"Bearer {token_create(user=manager, name='t')[1]}"}
    response = Client().get(
        reverse("api:lead-list"), {"stage": "routed", "ordering": "created_at"}, headers=headers
    )
    assert [row["id"] for row in response.json()["results"]] == [routed.pk, later.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"stage": "nowhere"}, "stage"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"owner": "x"}, "owner"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(params, field):
    manager = UserFactory(role=Role.SALES_MANAGER)
    headers = {"Authorization": f"Bearer {token_create(user=manager, name='t')[1]}"}
    response = Client().get(reverse("api:lead-list"), params, headers=headers)
    assert field in assert_error_json(response, 400, "invalid")


def test_a_bad_cursor_is_a_404_in_the_error_shape():
    rep = UserFactory(role=Role.SALES_REP)
    headers = {"Authorization": f"Bearer {token_create(user=rep, name='t')[1]}"}
    response = Client().get(reverse("api:lead-list"), {"cursor": "nonsense"}, headers=headers)
    assert_error_json(response, 404, "not_found")


def test_the_dashboard_answers_the_pages_figures_and_names_a_bad_filter():
    user = UserFactory(role=Role.MARKETING_MANAGER)
    LeadFactory(stage=Stage.ROUTED)
    headers = {"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"}
    client = Client()
    body = client.get(reverse("api:dashboard"), {"period": "all"}, headers=headers).json()
    assert body["funnel"]["captured"] == 1
    assert {"measures", "distribution", "weekly"} <= set(body["speed_to_lead"])
    assert body["as_of"]  # the page's kept copy: tests/portal/dashboard/test_kept_figures.py
    response = client.get(reverse("api:dashboard"), {"period": "fortnight"}, headers=headers)
    assert "period" in assert_error_json(response, 400, "invalid")


def test_the_leads_list_reads_the_shown_columns_and_the_owner_only():
    manager = UserFactory(role=Role.SALES_MANAGER)
    headers = {"Authorization": f"Bearer {token_create(user=manager, name='t')[1]}"}
    _rows(2, UserFactory(role=Role.SALES_REP))
    client = Client()
    client.get(reverse("api:lead-list"), headers=headers)  # the token's first use
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("api:lead-list"), headers=headers)
    assert response.status_code == 200
    (listed,) = [q["sql"] for q in queries if 'FROM "leads_lead"' in q["sql"]]
    assert "capture_form" not in listed and "routing_queue" not in listed
    assert "remind_at" not in listed, "only the columns the API shows"
    assert "COUNT(" not in " ".join(q["sql"] for q in queries).upper()
    assert response.json()["results"][0]["owner"]["username"]


def test_the_email_filter_finds_a_lead_as_capture_keeps_its_address():
    manager = UserFactory(role=Role.SALES_MANAGER)
    headers = {"Authorization": f"Bearer {token_create(user=manager, name='t')[1]}"}
    lead = LeadFactory(email="ana@acme.example")
    LeadFactory(email="bea@acme.example")
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(
            reverse("api:lead-list"), {"email": " Ana@ACME.example "}, headers=headers
        )
    assert [row["id"] for row in response.json()["results"]] == [lead.pk]
    assert "UPPER(" not in " ".join(q["sql"] for q in queries), "the unique index finds it"


@pytest.mark.parametrize(
    ("name", "query"), [("api:lead-list", "stage"), ("api:event-list", "kind")]
)
def test_a_choice_filter_reads_the_first_rows_without_distinct(name, query):
    manager = UserFactory(role=Role.SALES_MANAGER)
    headers = {"Authorization": f"Bearer {token_create(user=manager, name='t')[1]}"}
    _rows(2, UserFactory(role=Role.SALES_REP))
    value = Stage.ROUTED if query == "stage" else "note"
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(reverse(name), {query: [value]}, headers=headers)
    assert response.status_code == 200
    assert response.json()["results"]
    assert "DISTINCT" not in " ".join(q["sql"] for q in queries).upper()
