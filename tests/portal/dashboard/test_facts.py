"""The roll-up `LeadFacts`: what the folds keep of the leads the triggers marked, write by
write, equals a recount from scratch (`facts_rebuild`, one SQL statement) and a count by hand
in Python of each lead's history (the raw computation), and every panel reads the same from
either. A test that reads the rows itself folds first, as every reader does (`facts_fresh`)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.utils import timezone

from leads.lifecycle import lead_move
from leads.models import Lead, LeadEvent, Stage
from portal.dashboard import selectors
from portal.dashboard.facts import (
    after_migrate,
    before_migrate,
    facts_fresh,
    facts_installed_version,
    facts_rebuild,
    version,
)
from portal.dashboard.models import LeadFacts
from portal.dashboard.selectors import PROVES, SIDE_EXITS, Filters
from portal.dashboard.tables import all_tables
from scoring.models import CriterionResult, Qualification
from scoring.verdict_rows import qualifications_supersede
from tests.factories import (
    AgreementFactory,
    CriterionFactory,
    FormFactory,
    LeadFactory,
    UserFactory,
    judged,
    queue_with_reps,
)
from tests.portal.dashboard.helpers import WAY, event, lead_imported_as, lead_through, submitted

pytestmark = pytest.mark.django_db

R, A = Stage.ROUTED, Stage.ACCEPTED
FIELDS = [
    "lead_id",
    "created_at",
    "form_id",
    "campaign",
    "queue_id",
    "owner_id",
    "stage",
    "first_action_at",
    "accept_due_at",
    "accept_met_at",
    "accept_rep_id",
    "contact_due_at",
    "contact_met_at",
    "contact_rep_id",
    "furthest",
    "disqualified",
    "rejected",
    "recycled",
    "lost",
    "routed_at",
    "contacted_at",
    "source",
    "rejected_reasons",
    "lost_reasons",
    "judgements",
    "failed_criteria",
]


def _codes(kept: str) -> tuple[str, ...]:
    """The reason codes between commas, sorted."""
    return tuple(sorted(kept.split(",")[1:-1]))


def _listed(kept: str) -> tuple[str, ...]:
    return tuple(sorted(filter(None, kept.split(","))))


def _facts(lead: Lead) -> LeadFacts:
    facts_fresh()
    return LeadFacts.objects.get(lead=lead)


def _rows() -> list[tuple]:
    facts_fresh()
    rows = LeadFacts.objects.order_by("lead_id").values_list(*FIELDS)
    return [
        (*row[:-4], _codes(row[-4]), _codes(row[-3]), _listed(row[-2]), _listed(row[-1]))
        for row in rows
    ]


def _by_hand(lead: Lead) -> tuple:
    """The lead's facts counted in Python from its rows, as `_rows` gives them."""
    first = lead.submissions.order_by("received_at", "pk").first()
    said = [(first.utm or {}).get("utm_source") if first else None]
    said += [lead.attributes.get(key) for key in ("utm_source", "origin", "source")]
    source = next((str(s) for s in said if s), "")
    events = list(lead.events.filter(kind__in=["stage_changed", "contact_logged"]))
    moves = [e for e in events if e.kind == "stage_changed"]
    contacts = [e.at for e in events if e.kind == "contact_logged" or e.to_stage == "contacted"]
    in_force = lead.qualifications.filter(superseded_at__isnull=True)
    failed = CriterionResult.objects.filter(qualification__in=in_force, passed=False)
    return (
        lead.pk,
        lead.created_at,
        lead.source_form_id,
        lead.campaign,
        lead.queue_id,
        lead.owner_id,
        lead.stage,
        lead.first_action_at,
        lead.accept_due_at,
        lead.accept_met_at,
        lead.accept_rep_id,
        lead.contact_due_at,
        lead.contact_met_at,
        lead.contact_rep_id,
        max([PROVES.get(e.to_stage, 0) for e in moves], default=0),
        *(any(e.to_stage == exit_ for e in moves) for exit_ in SIDE_EXITS),
        min([e.at for e in moves if e.to_stage == "routed"], default=None),
        min(contacts, default=None),
        source,
        *(
            tuple(sorted({e.reason_code for e in moves if e.to_stage == to}))
            for to in ("rejected", "lost")
        ),
        tuple(sorted(f"{q.agreement_id}:{q.score}:{int(q.qualified)}" for q in in_force)),
        tuple(sorted({str(c) for c in failed.values_list("criterion_id", flat=True)})),
    )


@pytest.fixture
def histories():
    now = timezone.now()
    won = lead_through(*WAY)
    rejected = lead_through(Stage.QUALIFIED, R, Stage.REJECTED, R, reason_code="no_budget")
    with transaction.atomic():
        lead_move(lead=rejected, to=Stage.REJECTED, reason="Again.", reason_code="duplicate")
        lead_move(lead=rejected, to=R, reason="Back.")
        lead_move(lead=rejected, to=Stage.REJECTED, reason="Once more.")
        lead_move(lead=rejected, to=R, reason="Back.")
        lead_move(lead=rejected, to=A, reason="Taken.")
    event(rejected, at=now + timedelta(hours=2), kind=LeadEvent.Kind.CONTACT_LOGGED)
    event(rejected, at=now + timedelta(hours=1), kind=LeadEvent.Kind.CONTACT_LOGGED)
    lead_through(Stage.DISQUALIFIED, Stage.QUALIFIED)
    lead_through(Stage.QUALIFIED, R, A, Stage.RECYCLED)
    imported = lead_imported_as(Stage.LOST, reason_code="price", attributes={"origin": "paid"})
    submitted(won, utm_source="google", at=won.created_at + timedelta(days=1))
    submitted(won, utm_source="bing", at=won.created_at)  # the first one says
    late = LeadFactory(attributes={"source": "fair"})
    with transaction.atomic():
        Lead.objects.filter(pk=late.pk).update(attributes={"utm_source": "partner"})
    event(late, at=now, to_stage=Stage.ROUTED)
    event(late, at=now - timedelta(minutes=5), to_stage=Stage.ROUTED)
    moved = LeadFactory(campaign="Spring")
    Lead.objects.filter(pk=moved.pk).update(
        campaign="Autumn", created_at=now - timedelta(days=400), first_action_at=now
    )
    # Judgements: two submissions judged, one failing; a judgement superseded by a newer
    # version's (as the re-scoring does: superseded, then the new one written).
    v1 = AgreementFactory(criteria=False)
    size = CriterionFactory(agreement=v1)
    country = CriterionFactory(agreement=v1, label="Country", attribute="country")
    judged(won, v1, {size: 10}, failed=[country])
    judged(won, v1, {size: 10, country: 5})
    old = judged(rejected, v1, {}, failed=[size, country], qualified=False)
    judged(imported, v1, {country: 5}, failed=[size], qualified=False)
    v2 = AgreementFactory(criteria=False)
    size_v2 = CriterionFactory(agreement=v2)
    with transaction.atomic():
        qualifications_supersede([old.pk], at=now)
        judged(rejected, v2, {size_v2: 20})
    # Around midnight in São Paulo (a period's edge, `midnight` below), with a queue and rep.
    rep = UserFactory()
    queue = queue_with_reps(rep)
    form = FormFactory()
    for seconds in (-1, 0):
        night = lead_through(
            Stage.QUALIFIED,
            R,
            created_at=MIDNIGHT + timedelta(seconds=seconds),
            source_form=form,
            campaign="Night",
            queue=queue,
            owner=rep,
        )
        # Its service levels' steps, as leads.clock keeps them: accepted late, contact due.
        Lead.objects.filter(pk=night.pk).update(
            accept_due_at=MIDNIGHT + DAY,
            accept_met_at=MIDNIGHT + 2 * DAY,
            accept_rep=rep,
            contact_due_at=MIDNIGHT + 3 * DAY,
            contact_rep=rep,
        )
    return {
        "won": won,
        "rejected": rejected,
        "imported": imported,
        "late": late,
        "moved": moved,
        "night": night,
    }


# Midnight in São Paulo 30 days ago (03:00 UTC): a period starting that day starts here.
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MIDNIGHT = datetime.combine(
    timezone.now().astimezone(SAO_PAULO).date() - timedelta(days=30), time(), tzinfo=SAO_PAULO
).astimezone(UTC)
DAY = timedelta(days=1)


def _filter_sets(histories) -> dict[str, Filters]:
    return {
        "all": Filters(),
        "from midnight": Filters(since=MIDNIGHT, until=MIDNIGHT + DAY),
        "until midnight": Filters(since=MIDNIGHT - DAY, until=MIDNIGHT),
        "empty period": Filters(
            since=MIDNIGHT - timedelta(days=3000), until=MIDNIGHT - timedelta(days=2999)
        ),
        "form": Filters(form=histories["night"].source_form_id),
        "campaign": Filters(campaign="Autumn"),
        "source": Filters(source="bing"),
        "origin": Filters(source="paid"),
        "queue": Filters(queue=histories["night"].queue_id),
        "rep": Filters(rep=histories["night"].owner_id),
    }


def test_the_facts_equal_a_count_by_hand_of_each_leads_history(histories):
    assert _rows() == [_by_hand(lead) for lead in Lead.objects.order_by("pk")]


def test_every_panel_reads_the_same_from_the_triggers_rows_as_from_a_recount(histories):
    kept = {name: all_tables(f) for name, f in _filter_sets(histories).items()}
    facts_rebuild()
    for name, f in _filter_sets(histories).items():
        recounted = all_tables(f)
        for key, table in kept[name].items():
            assert (name, key, table.rows) == (name, key, recounted[key].rows)
    assert kept["empty period"]["funnel"].rows[0][1] == 0
    for edge in ("from midnight", "until midnight"):
        assert [row[1] for row in kept[edge]["funnel"].rows[:4]] == [1, 1, 1, 0]


def test_scores_and_criteria_failed_most_equal_a_count_of_the_judgements_in_force(histories):
    for name, f in _filter_sets(histories).items():
        leads = selectors.leads_for(f).values("pk")
        in_force = Qualification.objects.current().filter(lead__in=leads)
        raw: dict = {}
        for number, score, qualified in in_force.values_list(
            "agreement__version", "score", "qualified"
        ):
            row = raw.setdefault((number, score), [0, 0])
            row[0 if qualified else 1] += 1
        scores = {
            (row["version"], row["score"]): [row["qualified"], row["not_qualified"]]
            for row in selectors.score_distribution(filters=f)
        }
        assert (name, scores) == (name, raw)
        failing = CriterionResult.objects.filter(qualification__in=in_force, passed=False)
        raw_failed: dict = {}
        pairs = set(failing.values_list("qualification__lead", "criterion_id", "criterion__label"))
        for _, _, label in pairs:
            raw_failed[label] = raw_failed.get(label, 0) + 1
        rows = selectors.quality_by(filters=f, dimension="campaign")
        found = {}
        for row in rows:
            for said in filter(None, row["failed_most"].split("; ")):
                label, n = said.rsplit(" (", 1)
                found[label] = found.get(label, 0) + int(n.rstrip(")"))
        assert (name, found) == (name, raw_failed)


def test_the_triggers_keep_what_a_recount_of_the_events_finds(histories):
    kept = _rows()
    assert len(kept) == Lead.objects.count()
    facts_rebuild()
    assert _rows() == kept


def test_a_leads_facts_say_how_far_it_went_its_exits_first_times_and_source(histories):
    facts = {name: _facts(lead) for name, lead in histories.items()}
    assert (facts["won"].furthest, facts["won"].source) == (6, "bing")
    rejected = facts["rejected"]
    assert (rejected.furthest, rejected.rejected, rejected.lost) == (3, True, False)
    # Each code once, between commas, "" for a move without one.
    kept = rejected.rejected_reasons
    assert (kept[0], kept[-1], _codes(kept)) == (",", ",", ("", "duplicate", "no_budget"))
    assert _codes(facts["imported"].lost_reasons) == ("price",)
    first_contact = LeadEvent.objects.filter(
        lead=histories["rejected"], kind=LeadEvent.Kind.CONTACT_LOGGED
    ).order_by("at")[0]
    assert rejected.contacted_at == first_contact.at
    imported = facts["imported"]
    assert (imported.furthest, imported.lost, imported.source) == (5, True, "paid")
    late = facts["late"]
    assert late.source == "partner"  # the attributes changed after the lead was written
    assert late.routed_at == min(
        LeadEvent.objects.filter(lead=histories["late"], to_stage=R).values_list("at", flat=True)
    )


def test_the_facts_follow_the_leads_own_columns(histories):
    for lead in Lead.objects.all():
        facts = _facts(lead)
        assert (facts.created_at, facts.campaign, facts.stage, facts.owner_id) == (
            lead.created_at,
            lead.campaign,
            lead.stage,
            lead.owner_id,
        )
        assert (facts.first_action_at, facts.queue_id, facts.form_id) == (
            lead.first_action_at,
            lead.queue_id,
            lead.source_form_id,
        )
    assert _facts(histories["moved"]).campaign == "Autumn"


def test_an_event_rewritten_afterwards_is_recounted(histories):
    """The demo backdates its events (`portal.demo.services._backdate`): the facts follow."""
    won = histories["won"]
    earlier = timezone.now() - timedelta(days=30)
    routed = LeadEvent.objects.get(lead=won, to_stage=R)
    LeadEvent.objects.filter(pk=routed.pk).update(at=earlier)
    assert _facts(won).routed_at == earlier
    kept = _rows()
    facts_rebuild()
    assert _rows() == kept


def test_migrate_reinstalls_triggers_out_of_date_and_recounts_the_facts(histories):
    """After a migrate (`after_migrate`): triggers of another version (PostgreSQL), or taken
    off while SQLite migrated, are installed again, and every row is recounted."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("COMMENT ON TABLE dashboard_leadfacts IS 'triggers older'")
        else:
            before_migrate(using="default", plan=[("dashboard", "0003")])
    LeadFacts.objects.update(furthest=0, judgements="")
    after_migrate(using="default", plan=[("dashboard", "0003")])
    assert _rows() == [_by_hand(lead) for lead in Lead.objects.order_by("pk")]
    assert facts_installed_version(connection) in ("", version(connection.vendor))
    lead = lead_through(*WAY)  # the triggers are back
    assert _facts(lead).furthest == 6


def test_a_migrate_with_nothing_to_do_leaves_the_facts_alone(histories):
    facts_fresh()
    LeadFacts.objects.update(furthest=0)
    before_migrate(using="default", plan=[])
    after_migrate(using="default", plan=[])
    assert set(LeadFacts.objects.values_list("furthest", flat=True)) == {0}
