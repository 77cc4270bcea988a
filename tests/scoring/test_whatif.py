"""The what-if against a fixture counted by hand."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent, RejectionReason, Stage
from portal.accounts.roles import Role
from scoring import engine
from scoring import whatif as whatif_module
from scoring.models import Agreement, AgreementScope, Criterion
from scoring.whatif import whatif
from tests.factories import (
    AgreementFactory,
    CriterionFactory,
    FormFactory,
    LeadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def went(lead, *stages, reason_code=""):
    """Record the stage changes sales made, as the lifecycle writes them."""
    before = lead.stage
    for stage in stages:
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.STAGE_CHANGED,
            from_stage=before,
            to_stage=stage,
            reason="test",
            reason_code=reason_code if stage == Stage.REJECTED else "",
        )
        before = stage


@pytest.fixture
def fixture():
    """Active v1: company size at least 50 (mandatory), threshold 0.
    Proposal v2: company size at least 20 and country one of Brazil (both mandatory).

    | lead | size | country | v1  | v2  | sales did            |
    | A    | 100  | Brazil  | yes | yes | -                    |
    | B    | 100  | France  | yes | no  | routed, rejected (wrong territory) |
    | C    | 30   | Brazil  | no  | yes | - (disqualified)     |
    | D    | 30   | France  | no  | no  | -                    |
    | E    | 10   | Brazil  | no  | no  | -                    |
    | F    | 200  | Chile   | yes | no  | routed, accepted, ..., won |
    | G    | 60   | Brazil  | yes | yes | -                    |
    | H    | 30   | Brazil  | (created 120 days ago: outside the 90 days) |

    Hand count over the 7 leads of the last 90 days: v1 qualifies A, B, F, G = 4; v2
    qualifies A, C, G = 3. Under v2 the country fails B, D, F = 3 and the size fails E = 1;
    under v1 the size fails C, D, E = 3. Gained by v2: C (1 lead, never reached sales).
    Dropped by v2: B and F (2 leads, both reached sales; 1 accepted, 1 rejected for wrong
    territory: acceptance 1/2 = 50 %; 1 won of 1 accepted: win rate 100 %).
    """
    active = AgreementFactory(version=1)  # company size at least 50
    proposal = Agreement.objects.create(version=2, threshold=0)
    CriterionFactory(agreement=proposal, value=20)
    CriterionFactory(
        agreement=proposal,
        label="Territory",
        attribute="country",
        operator=Criterion.Operator.ONE_OF,
        value=["Brazil"],
        position=1,
    )
    form = FormFactory()
    leads = {}
    for name, size, country in [
        ("a", 100, "Brazil"),
        ("b", 100, "France"),
        ("c", 30, "Brazil"),
        ("d", 30, "France"),
        ("e", 10, "Brazil"),
        ("f", 200, "Chile"),
        ("g", 60, "Brazil"),
        ("h", 30, "Brazil"),
    ]:
        leads[name] = LeadFactory(
            email=f"{name}@acme.example",
            source_form=form,
            attributes={"company_size": str(size), "country": country},
        )
    leads["h"].created_at = timezone.now() - timedelta(days=120)
    leads["h"].save(update_fields=["created_at"])
    went(leads["b"], Stage.QUALIFIED, Stage.ROUTED, Stage.REJECTED, reason_code="wrong_territory")
    went(leads["f"], Stage.QUALIFIED, Stage.ROUTED, Stage.ACCEPTED, Stage.CONTACTED)
    leads["f"].stage = Stage.WON
    leads["f"].save(update_fields=["stage"])
    return active, proposal


def test_whatif_counts_match_the_hand_count(fixture):
    active, proposal = fixture
    result = whatif(proposal=proposal, against=active, days=90)
    assert result.leads == 7
    assert result.proposal.qualified == 3
    assert result.against.qualified == 4
    assert [(f.label, f.failed) for f in result.proposal.failures] == [
        ("Territory", 3),
        ("Company size", 1),
    ]
    assert [(f.label, f.failed) for f in result.against.failures] == [("Company size", 3)]
    assert (result.gained.leads, result.gained.reached_sales) == (1, 0)
    dropped = result.dropped
    assert (dropped.leads, dropped.reached_sales) == (2, 2)
    assert (dropped.accepted, dropped.rejected, dropped.won) == (1, 1, 1)
    assert dropped.acceptance == 0.5
    assert dropped.win_rate == 1.0
    assert dropped.rejection_reasons == [(RejectionReason.WRONG_TERRITORY.label, 1)]


def test_a_longer_window_takes_the_older_lead_in(fixture):
    active, proposal = fixture
    result = whatif(proposal=proposal, against=active, days=180)
    assert result.leads == 8
    assert result.gained.leads == 2  # C and H


def test_without_a_version_to_compare_with_only_the_proposal_is_counted(fixture):
    _active, proposal = fixture
    result = whatif(proposal=proposal, against=None)
    assert (result.leads, result.proposal.qualified, result.against) == (7, 3, None)
    assert result.changed == 0


def test_the_whatif_reads_the_leads_in_a_few_queries_however_many(
    fixture, django_assert_max_num_queries
):
    active, proposal = fixture
    form = FormFactory()
    LeadFactory.create_batch(50, source_form=form, attributes={"company_size": "70"})
    with django_assert_max_num_queries(8):
        result = whatif(proposal=proposal, against=active)
    assert result.leads == 57


def test_both_managers_see_the_whatif_on_the_proposal_page(fixture, client):
    _active, proposal = fixture
    for role in (Role.SALES_MANAGER, Role.MARKETING_MANAGER):
        client.force_login(UserFactory(role=role))
        page = client.get(reverse("scoring:version", kwargs={"version": proposal.version}))
        section = page.content.decode()
        assert 'id="whatif"' in section
        assert "7 leads in the last 90 days" in section
        assert "1 would qualify" in section
        assert "2 would no longer qualify" in section
        assert "Rejected for: wrong territory (1)" in section


def test_the_days_are_chosen_from_the_list(fixture, client):
    _active, proposal = fixture
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    url = reverse("scoring:version", kwargs={"version": proposal.version})
    assert "8 leads in the last 180 days" in client.get(url, {"days": 180}).content.decode()
    assert "7 leads in the last 90 days" in client.get(url, {"days": 7000}).content.decode()


def test_a_marketer_reads_the_proposal_without_the_whatif(fixture, client):
    _active, proposal = fixture
    client.force_login(UserFactory(role=Role.MARKETER))
    page = client.get(reverse("scoring:version", kwargs={"version": proposal.version}))
    assert page.status_code == 200
    assert 'id="whatif"' not in page.content.decode()


def test_the_active_version_has_no_whatif(fixture, client):
    active, _proposal = fixture
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("scoring:version", kwargs={"version": active.version}))
    assert 'id="whatif"' not in page.content.decode()


def test_the_whatif_reads_only_the_leads_of_the_forms_in_the_drafts_scope(fixture):
    active, proposal = fixture  # the main scope: every form no other scope lists
    webinar = FormFactory(name="Webinar")
    LeadFactory.create_batch(
        3, source_form=webinar, attributes={"company_size": "30", "country": "Brazil"}
    )
    assert whatif(proposal=proposal, against=active).leads == 7 + 3

    webinars = AgreementScope.objects.create(name="Webinars")
    judging_webinars = AgreementFactory(version=3, scope=webinars, form_ids=[webinar.pk])
    result = whatif(proposal=proposal, against=active)
    assert result.leads == 7  # the webinar's leads are another scope's now
    assert result.proposal.qualified == 3

    draft = Agreement.objects.create(version=4, scope=webinars, form_ids=[webinar.pk])
    CriterionFactory(agreement=draft, value=20)
    result = whatif(proposal=draft, against=judging_webinars)
    assert (result.leads, result.forms) == (3, "Webinar")
    assert (result.proposal.qualified, result.against.qualified) == (3, 0)
    assert (result.gained.leads, result.dropped.leads) == (3, 0)


def test_the_page_says_whose_forms_the_whatif_read(fixture, client):
    _active, proposal = fixture
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    page = client.get(reverse("scoring:version", kwargs={"version": proposal.version}))
    assert "from every form no other active version lists" in page.content.decode()


# Values of every JSON type, keys missing, extra and null: reading only the keys the criteria
# read must judge each of them exactly as reading the whole attributes does.
MIXED = [
    {"company_size": 100, "country": "Brazil", "tags": ["demo", "x"], "dnc": True},
    {"company_size": "1,200", "country": ["Brazil"], "phone": None, "extra": {"a": [1]}},
    {"company_size": 2.5, "country": "brazil ", "tags": "Demo please", "dnc": "no"},
    {"company_size": "45", "country": "Brazil", "phone": "+55 11", "dnc": False},
    {"company_size": "lots", "country": "France", "phone": "+55 11"},
    {"company_size": "Select", "country": None, "tags": [], "notes": "x" * 300},
    {"country": "Brazil", "phone": "", "dnc": 1},
    {"company_size": {"n": 50}, "country": 7, "phone": 0, "tags": [["demo"]]},
    {},
]


@pytest.fixture
def mixed():
    active = AgreementFactory(version=1, threshold=5)  # size at least 50
    CriterionFactory(
        agreement=active,
        label="Demo",
        kind=Criterion.Kind.SCORING,
        attribute="tags",
        operator=Criterion.Operator.CONTAINS,
        value="demo",
        points=5,
        position=1,
    )
    proposal = Agreement.objects.create(version=2, threshold=5)
    CriterionFactory(agreement=proposal, value=20, blank_passes=True)
    CriterionFactory(
        agreement=proposal,
        label="Territory",
        attribute="country",
        operator=Criterion.Operator.ONE_OF,
        value=["Brazil"],
        position=1,
    )
    CriterionFactory(
        agreement=proposal,
        label="Phone",
        kind=Criterion.Kind.SCORING,
        attribute="phone",
        operator=Criterion.Operator.PRESENT,
        value=None,
        points=5,
        position=2,
    )
    CriterionFactory(
        agreement=proposal,
        label="May call",
        attribute="dnc",
        operator=Criterion.Operator.NOT_EQUALS,
        value="Yes",
        blank_passes=True,
        position=3,
    )
    form = FormFactory()
    for i, attributes in enumerate(MIXED * 3):
        LeadFactory(email=f"m{i}@acme.example", source_form=form, attributes=attributes)
    return active, proposal


def counted(result):
    return [
        result.leads,
        *[
            (
                c.qualified,
                c.failed_mandatory,
                c.below_threshold,
                [(f.label, f.failed) for f in c.failures],
            )
            for c in (result.proposal, result.against)
        ],
        (result.gained.leads, result.dropped.leads),
    ]


@pytest.mark.postgres
def test_reading_only_the_criteria_keys_judges_as_the_whole_attributes_do(mixed, monkeypatch):
    active, proposal = mixed
    results = {}
    for picks in (True, False):
        monkeypatch.setattr(whatif_module, "_picks", lambda keys, picks=picks: picks)
        with CaptureQueriesContext(connection) as queries:
            results[picks] = whatif(proposal=proposal, against=active)
        picked = any("json_build_array" in query["sql"] for query in queries)
        assert picked == picks
    assert counted(results[True]) == counted(results[False])


def test_the_whatif_counts_as_judging_each_lead_alone_does(mixed):
    active, proposal = mixed
    result = whatif(proposal=proposal, against=active)
    leads = list(Lead.objects.values_list("attributes", flat=True))
    for agreement, count in ((proposal, result.proposal), (active, result.against)):
        verdicts = [engine.evaluate(a, agreement.rules(), agreement.threshold) for a in leads]
        assert count.qualified == sum(v.qualified for v in verdicts)
        assert 0 < count.qualified < len(leads)
    gained = sum(
        engine.evaluate(a, proposal.rules(), 5).qualified
        and not engine.evaluate(a, active.rules(), 5).qualified
        for a in leads
    )
    assert result.gained.leads == gained


@pytest.mark.parametrize(
    "text",
    ['{"a": "1", "b": [1, 2.5, null, true]}', ' {"a": 1}', '{"a": 1} ', "18446744073709551617"],
)
def test_the_whatif_decodes_attributes_as_json_loads_does(text):
    import json

    assert whatif_module._loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1} x', '{"a": ', ""])
def test_the_whatif_refuses_what_json_loads_refuses(text):
    import json

    with pytest.raises(json.JSONDecodeError):
        whatif_module._loads(text)


def test_the_whatif_takes_any_dates_years_back(fixture, client):
    active, proposal = fixture
    old = LeadFactory(source_form=Lead.objects.first().source_form, attributes={})
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3 * 365))
    years_ago = (timezone.localdate() - timedelta(days=4 * 365)).isoformat()
    two_years_ago = (timezone.localdate() - timedelta(days=2 * 365)).isoformat()
    assert whatif(proposal=proposal, against=active, days=None).leads == 9  # all time
    client.force_login(UserFactory(role=Role.SALES_MANAGER))
    url = reverse("scoring:version", kwargs={"version": proposal.version})
    page = client.get(url, {"start": years_ago, "end": two_years_ago}).content.decode()
    assert "1 lead from " in page
    assert client.get(url, {"days": "all"}).context["whatif"].leads == 9
