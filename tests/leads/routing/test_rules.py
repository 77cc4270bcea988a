"""Queue rules: conditions on any attribute, judged by the agreement's engine."""

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.models import Stage
from leads.routing.models import Queue
from leads.routing.rules import QueueRule, queue_rule, rulebook
from leads.routing.services import lead_route, queue_save
from portal.accounts.roles import Role
from scoring import engine
from tests.factories import LeadFactory, UserFactory, queue_with_reps

TWO_CONDITIONS = [
    {"attribute": "country", "operator": "country_in", "value": ["BR"]},
    {"attribute": "company_size", "operator": "at_least", "value": 200},
]


def test_a_lead_must_meet_every_condition_of_a_queue():
    rule = QueueRule(TWO_CONDITIONS)
    assert rule.takes({"country": "BR", "company_size": "1,000"})
    assert not rule.takes({"country": "BR", "company_size": "50"})
    assert not rule.takes({"country": "PT", "company_size": "1000"})
    assert "company size is 50, below 200" in rule.why_not({"country": "BR", "company_size": 50})


def test_a_blank_fails_a_condition_unless_it_lets_a_blank_pass():
    strict = QueueRule([{"attribute": "industry", "operator": "one_of", "value": ["Retail"]}])
    lenient = QueueRule(
        [{"attribute": "industry", "operator": "one_of", "value": ["Retail"], "blank_passes": 1}]
    )
    assert not strict.takes({"industry": " "})
    assert lenient.takes({"industry": ""})
    assert not lenient.takes({"industry": "Banking"})


def test_no_conditions_is_a_catch_all():
    assert QueueRule([]).catch_all
    assert QueueRule([]).takes({})


@pytest.mark.django_db
def test_routing_reads_form_campaign_and_score_as_well_as_attributes():
    big_rep, score_rep, rest_rep = UserFactory.create_batch(3, role=Role.SALES_REP)
    queue_with_reps(big_rep, priority=1, conditions=TWO_CONDITIONS)
    queue_with_reps(
        score_rep,
        priority=2,
        conditions=[
            {"attribute": "score", "operator": "between", "value": [80, 100]},
            {"attribute": "campaign", "operator": "equals", "value": "Spring"},
        ],
    )
    queue_with_reps(rest_rep, priority=3)
    big = LeadFactory(stage=Stage.QUALIFIED, attributes={"country": "BR", "company_size": 500})
    hot = LeadFactory(stage=Stage.QUALIFIED, score=90, campaign="spring", attributes={})
    cold = LeadFactory(stage=Stage.QUALIFIED, score=20, campaign="spring", attributes={})
    assert lead_route(lead_id=big.pk).rep == big_rep
    assert lead_route(lead_id=hot.pk).rep == score_rep
    assert lead_route(lead_id=cold.pk).rep == rest_rep


@pytest.mark.django_db
def test_a_rule_on_the_form_reads_its_slug():
    rep, other = UserFactory.create_batch(2, role=Role.SALES_REP)
    lead = LeadFactory(stage=Stage.QUALIFIED)
    slug = lead.source_form.slug
    queue_with_reps(
        rep, priority=1, conditions=[{"attribute": "form", "operator": "equals", "value": slug}]
    )
    queue_with_reps(other, priority=2)
    assert lead_route(lead_id=lead.pk).rep == rep


@pytest.mark.django_db
def test_the_queue_page_warns_when_no_queue_catches_every_lead(client):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    queue_with_reps(conditions=TWO_CONDITIONS)
    LeadFactory(stage=Stage.QUALIFIED, route_due_at="2026-01-01T00:00Z")
    html = client.get(reverse("routing:queue_list")).content.decode()
    assert "No active catch-all queue" in html
    assert "(1 waiting now)" in html
    queue_with_reps(name="Everything else", priority=999)
    html = client.get(reverse("routing:queue_list")).content.decode()
    assert "No active catch-all queue" not in html


@pytest.mark.django_db
def test_a_manager_sets_a_rule_of_two_conditions_on_the_page(client):
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    answer = client.post(
        reverse("routing:queue_new"),
        {
            "name": "Big Brazil",
            "priority": 5,
            "is_active": "on",
            "condition_0_attribute": "country",
            "condition_0_operator": "country_in",
            "condition_0_value": "Brazil",
            "condition_1_attribute": "company_size",
            "condition_1_operator": "between",
            "condition_1_value": "200, 5000",
            "condition_2_attribute": "",
        },
    )
    assert answer.status_code == 302
    assert Queue.objects.get().conditions == [
        {"attribute": "country", "operator": "country_in", "value": ["BR"], "blank_passes": False},
        {
            "attribute": "company_size",
            "operator": "between",
            "value": [200, 5000],
            "blank_passes": False,
        },
    ]


# The same engine decides queue rules and agreement criteria ------------------------------

_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["", " ", "BR", "br", "PT", "Retail", "1,000", "50", "x@gmail.com", "N/A"]),
    st.integers(-10, 2000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
_CONDITIONS = st.lists(
    st.one_of(
        st.builds(
            lambda a, v, b: {"attribute": a, "operator": "one_of", "value": v, "blank_passes": b},
            st.sampled_from(["country", "industry"]),
            st.lists(st.sampled_from(["BR", "pt", "Retail"]), min_size=1),
            st.booleans(),
        ),
        st.builds(
            lambda op, n, b: {"attribute": "size", "operator": op, "value": n, "blank_passes": b},
            st.sampled_from(["at_least", "at_most"]),
            st.integers(0, 1500),
            st.booleans(),
        ),
        st.builds(
            lambda lo, hi: {"attribute": "size", "operator": "between", "value": [lo, lo + hi]},
            st.integers(0, 500),
            st.integers(0, 500),
        ),
        st.builds(
            lambda op: {"attribute": "email", "operator": op, "value": None},
            st.sampled_from(["present", "free_mail", "not_free_mail"]),
        ),
        st.builds(
            lambda v: {"attribute": "industry", "operator": "contains", "value": v},
            st.sampled_from(["ret", "bank"]),
        ),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(
    conditions=_CONDITIONS,
    attributes=st.fixed_dictionaries(
        {},
        optional={k: _VALUES for k in ("country", "industry", "size", "email")},
    ),
)
def test_a_queue_takes_a_lead_exactly_when_the_same_criteria_would_qualify_it(
    conditions, attributes
):
    criteria = [
        engine.Rule(
            id=i,
            kind=engine.MANDATORY,
            attribute=c["attribute"],
            operator=c["operator"],
            value=c["value"],
            points=0,
            label=f"Criterion {i}",
            blank_passes=bool(c.get("blank_passes")),
        )
        for i, c in enumerate(conditions)
    ]
    agreement_says = engine.evaluate(attributes, criteria, 0).qualified
    assert QueueRule(conditions).takes(attributes) is agreement_says
    assert (QueueRule(conditions).why_not(attributes) == "") is agreement_says


@settings(max_examples=200, deadline=None)
@given(
    queues=st.lists(_CONDITIONS, min_size=1, max_size=4),
    leads=st.lists(
        st.fixed_dictionaries(
            {}, optional={k: _VALUES for k in ("country", "industry", "size", "email")}
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_a_rulebook_fails_each_queue_exactly_as_its_own_rule_does(queues, leads):
    book = rulebook(queues)
    for attributes in leads * 2:  # the second time from the book's memo of flags
        assert book.failed(attributes) == tuple(QueueRule(c).failed(attributes) for c in queues)


def test_a_rulebook_is_compiled_once_per_configuration():
    brazil = [{"attribute": "country", "operator": "country_in", "value": ["BR"]}]
    portugal = [{"attribute": "country", "operator": "country_in", "value": ["PT"]}]
    assert rulebook([brazil, []]) is rulebook([list(brazil), []])
    assert rulebook([portugal, []]) is not rulebook([brazil, []])
    assert rulebook([[], brazil]) is not rulebook([brazil, []])  # the order is the book's
    assert rulebook([portugal, []]).failed({"country": "BR"}) == (("country is one of PT",), ())


def test_a_queue_rule_is_compiled_once_per_distinct_set_of_conditions():
    brazil = [{"attribute": "country", "operator": "country_in", "value": ["BR"]}]
    assert queue_rule(brazil) is queue_rule([dict(brazil[0])])
    assert queue_rule([{**brazil[0], "value": ["PT"]}]) is not queue_rule(brazil)
    assert queue_rule([]) is queue_rule(None)


def test_the_rules_in_use_stay_compiled_while_many_others_come_and_go():
    """Bounded, the least recently used dropped first: a busy configuration is never
    recompiled because many others passed through (a what-if replaying proposals)."""
    brazil = [{"attribute": "country", "operator": "country_in", "value": ["BR"]}]
    rule, book = queue_rule(brazil), rulebook([brazil, []])
    for size in range(1000):
        other = [{"attribute": "company_size", "operator": "at_least", "value": size}]
        queue_rule(other), rulebook([other, []])
        assert queue_rule(brazil) is rule
        assert rulebook([brazil, []]) is book


@pytest.mark.django_db
def test_a_queue_saved_with_new_conditions_routes_the_next_lead_by_them():
    first, rest = UserFactory.create_batch(2, role=Role.SALES_REP)
    brazil = [{"attribute": "country", "operator": "country_in", "value": ["BR"]}]
    queue = queue_with_reps(first, priority=1, conditions=brazil)
    queue_with_reps(rest, priority=2)
    lead = LeadFactory(stage=Stage.QUALIFIED, attributes={"country": "BR"})
    assert lead_route(lead_id=lead.pk).rep == first

    queue.conditions = [{"attribute": "country", "operator": "country_in", "value": ["PT"]}]
    queue_save(queue=queue, reps=[first])
    lead = LeadFactory(stage=Stage.QUALIFIED, attributes={"country": "BR"})
    assignment = lead_route(lead_id=lead.pk)
    assert assignment.rep == rest
    why = lead.events.get(kind="assigned").data["why"]
    assert why["passed_over"] == [
        {"queue": queue.name, "why": "conditions", "failed": ["country is one of PT"]}
    ]
