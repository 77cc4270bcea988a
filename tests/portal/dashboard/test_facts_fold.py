"""The facts are kept in two halves: triggers mark the leads a transaction changed (in that
transaction), and a fold recounts the marked leads' rows afterwards, in the handoff worker
after each batch, on beat, and before every read."""

import pytest
from django.conf import settings
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from leads.handoff import tasks as handoff
from leads.models import Lead, Stage, Submission
from portal.accounts.roles import Role
from portal.dashboard import facts
from portal.dashboard.facts import facts_fold, facts_fresh, facts_rebuild
from portal.dashboard.models import FactsStale, LeadFacts
from portal.dashboard.tasks import fold_facts
from portal.integrations.api.services import token_create
from portal.sql import Prepared
from tests.factories import AgreementFactory, FormFactory, LeadFactory, UserFactory, queue_with_reps
from tests.portal.dashboard.helpers import WAY, lead_through

pytestmark = pytest.mark.django_db


def _marked() -> set[int]:
    return set(FactsStale.objects.values_list("lead_id", flat=True))


def _furthest(lead: Lead) -> int | None:
    """What the facts say now, without folding."""
    return LeadFacts.objects.filter(lead=lead).values_list("furthest", flat=True).first()


def test_a_write_marks_its_lead_and_the_fold_recounts_it():
    facts_fresh()
    lead = lead_through(*WAY)
    assert lead.pk in _marked()
    assert _furthest(lead) is None  # nothing counted in the writer's transaction

    assert facts_fold() == 1

    assert _marked() == set()
    assert _furthest(lead) == 6


def test_a_mark_written_in_a_rolled_back_transaction_leaves_nothing():
    facts_fresh()
    kept = LeadFactory()
    facts_fold()
    with pytest.raises(RuntimeError), transaction.atomic():
        lead = lead_through(*WAY)
        Lead.objects.filter(pk=kept.pk).update(campaign="Gone")
        assert _marked() == {lead.pk, kept.pk}
        raise RuntimeError("rolled back")
    assert _marked() == set()
    assert facts_fold() == 0
    assert LeadFacts.objects.get(lead=kept).campaign == kept.campaign


def test_a_transaction_marks_a_lead_once_however_many_statements_touch_it():
    facts_fresh()
    with transaction.atomic():
        lead_through(*WAY)
    assert FactsStale.objects.count() == 1


def test_a_lead_update_that_changes_nothing_the_facts_copy_marks_nothing():
    lead = LeadFactory()
    facts_fresh()
    Lead.objects.filter(pk=lead.pk).update(score=40, escalations=2)
    assert _marked() == set()
    Lead.objects.filter(pk=lead.pk).update(campaign="Autumn")
    assert _marked() == {lead.pk}


def test_a_fold_takes_at_most_its_limit_and_the_rest_wait_for_the_next():
    facts_fresh()
    leads = [lead_through(Stage.QUALIFIED) for _ in range(3)]
    assert facts_fold(limit=2) == 2
    assert _marked() == {leads[2].pk}
    assert facts_fold(limit=2) == 1
    assert [_furthest(lead) for lead in leads] == [1, 1, 1]


def test_the_rebuild_recounts_every_lead_and_drops_the_marks():
    lead = lead_through(*WAY)
    facts_rebuild()
    assert _marked() == set()
    assert _furthest(lead) == 6


def test_a_lead_changed_by_a_web_action_counts_at_the_next_computation(client):
    """No beat or worker runs: the page and the API count the accept as soon as their
    figures are computed again (Refresh, or the kept copy's end): the same kept copy."""
    rep = UserFactory(role=Role.SALES_REP)
    lead = lead_through(Stage.QUALIFIED, Stage.ROUTED, owner=rep)
    manager = UserFactory(role=Role.SALES_MANAGER)
    token = {"Authorization": f"Bearer {token_create(user=manager, name='t')[1]}"}

    def accepted(*, refresh: bool = False) -> tuple[int, int]:
        client.force_login(manager)
        if refresh:
            answer = client.post(reverse("dashboard_refresh") + "?period=all", follow=True)
        else:
            answer = client.get(reverse("dashboard"), {"period": "all"})
        page = answer.context["tables"]
        on_page = {row[0]: row[1] for row in page["funnel"].rows}["Accepted"]
        api = Client().get(reverse("api:dashboard"), {"period": "all"}, headers=token).json()
        in_api = {row["stage"]: row["reached"] for row in api["funnel"]["stages"]}["accepted"]
        return on_page, in_api

    assert accepted() == (0, 0)
    client.force_login(rep)
    assert client.post(reverse("inbox:accept", args=[lead.pk])).status_code == 302
    assert lead.pk in _marked()  # no beat, no worker ran

    assert accepted() == (0, 0)  # the kept figures, computed before the accept
    assert accepted(refresh=True) == (1, 1)


def test_the_beat_sweep_folds_what_web_actions_and_imports_marked():
    entries = settings.CELERY_BEAT_SCHEDULE.values()
    schedule = {entry["task"]: entry["schedule"] for entry in entries}
    assert schedule[fold_facts.name] <= 5
    leads = [lead_through(*WAY) for _ in range(3)]

    assert fold_facts() == 3

    assert _marked() == set()
    assert [_furthest(lead) for lead in leads] == [6, 6, 6]


def test_the_beat_sweep_folds_batch_after_batch(monkeypatch):
    monkeypatch.setattr("portal.dashboard.tasks.FOLD_LIMIT", 2)
    monkeypatch.setattr(facts, "FOLD_LIMIT", 2)
    facts_fresh()
    for _ in range(5):
        LeadFactory()
    assert fold_facts() == 5
    assert _marked() == set()


def test_the_handoff_leaves_its_marks_to_beats_fold(time_machine):
    """The handoff worker never folds (it routes meanwhile); beat's sweep on the bulk queue
    does."""
    AgreementFactory()
    queue_with_reps(UserFactory(role=Role.SALES_REP))
    lead = LeadFactory(stage=Stage.CAPTURED, attributes={"company_size": 80})
    Submission.objects.create(form=FormFactory(), lead=lead, payload={})

    handoff.hand_off()

    assert Lead.objects.get(pk=lead.pk).stage == Stage.ROUTED
    assert lead.pk in _marked()
    assert fold_facts() == 1
    assert _marked() == set()
    assert _furthest(lead) == 2


def test_a_failing_fold_leaves_its_marks_for_the_next(monkeypatch):
    """A fold takes its leads' marks and recounts them in one transaction: when the recount
    fails, the marks are still there, and beat's next fold recounts those leads."""
    facts_fresh()
    leads = [lead_through(*WAY) for _ in range(2)]
    missing = "SELECT * FROM dashboard_no_such_table WHERE lead_id {among}"
    # The recount's SQL broken: PostgreSQL's prepared statement, SQLite's plain one.
    broken = Prepared("dashboard_facts_fold_broken", lambda: missing.format(among="= ANY($1)"), 1)
    monkeypatch.setattr(facts, "FOLD", broken)
    monkeypatch.setattr(
        facts, "rebuild_sql", lambda *a, **kw: missing.format(among="IN (%s, %s, %s, %s)")
    )

    with pytest.raises(DatabaseError):
        fold_facts()

    assert _marked() == {lead.pk for lead in leads}
    assert [_furthest(lead) for lead in leads] == [None, None]
    monkeypatch.undo()
    assert fold_facts() == 2
    assert _marked() == set()
    assert [_furthest(lead) for lead in leads] == [6, 6]
