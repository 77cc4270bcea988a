"""Folds and writers at once on PostgreSQL, each on its own connection (threads): no change
committed is ever left out of the facts, whatever a fold was doing when it committed."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from leads.lifecycle import lead_move
from leads.models import Lead, Stage
from portal.dashboard.facts import facts_fold, facts_fresh, facts_rebuild
from portal.dashboard.models import FactsStale, LeadFacts
from tests.factories import LeadFactory

pytestmark = [
    pytest.mark.postgres,
    # serialized_rollback: tests/conftest.py says why every transactional test needs it.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning"),
]


def _rows() -> list[tuple]:
    return list(LeadFacts.objects.order_by("lead_id").values_list())


def _in_thread(work):
    """`work()` on a connection of its own, closed after."""

    def run():
        try:
            return work()
        finally:
            connection.close()

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(run)
    finally:
        pool.shutdown(wait=False)


def test_a_change_committed_while_a_fold_takes_its_leads_mark_is_folded_later():
    """A writer whose statement meets a mark already committed for its lead, and commits
    after a fold took that mark and recounted without its change, leaves a mark of its own."""
    lead = LeadFactory(campaign="Spring")
    facts_fresh()
    Lead.objects.filter(pk=lead.pk).update(campaign="Summer")  # marked, committed
    written, go_on = threading.Event(), threading.Event()

    def writer():
        with transaction.atomic():
            Lead.objects.filter(pk=lead.pk).update(campaign="Autumn")
            written.set()
            go_on.wait(10)

    done = _in_thread(writer)
    assert written.wait(10)
    assert facts_fold() == 1  # "Summer": the writer's change is not committed yet
    assert LeadFacts.objects.get(lead=lead).campaign == "Summer"
    go_on.set()
    done.result(timeout=10)

    assert set(FactsStale.objects.values_list("lead_id", flat=True)) == {lead.pk}
    facts_fresh()
    assert LeadFacts.objects.get(lead=lead).campaign == "Autumn"


def test_a_mark_of_a_transaction_rolled_back_is_never_seen():
    lead = LeadFactory()
    facts_fresh()
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_move(lead=lead, to=Stage.QUALIFIED, reason="Test.")
        raise RuntimeError("rolled back")
    assert not FactsStale.objects.exists()


def test_a_fold_waits_for_a_fold_under_way_when_asked_and_otherwise_leaves_it():
    lead = LeadFactory()
    holding, release = threading.Event(), threading.Event()

    def slow_fold():
        with transaction.atomic():
            facts_fold()
            holding.set()
            release.wait(10)

    held = _in_thread(slow_fold)
    assert holding.wait(10)
    with transaction.atomic():  # a writer never waits for a fold
        lead_move(lead=lead, to=Stage.QUALIFIED, reason="Test.")
    assert facts_fold(wait=False) is None  # the worker's and beat's: skip, the marks wait

    waiting = _in_thread(facts_fresh)  # a reader's: waits, then folds what is left
    with pytest.raises(TimeoutError):
        waiting.result(timeout=0.5)
    release.set()
    held.result(timeout=10)
    waiting.result(timeout=10)
    assert LeadFacts.objects.get(lead=lead).furthest == 1
    assert not FactsStale.objects.exists()


def test_folds_and_writers_at_once_never_lose_a_lead():
    leads = [LeadFactory(campaign="Start") for _ in range(30)]
    facts_fresh()
    stop = threading.Event()
    campaigns = ["Spring", "Summer", "Autumn", "Winter"]

    def write(seed: int) -> None:
        pick = random.Random(seed)
        for _ in range(40):
            chosen = pick.sample(leads, 3)
            with transaction.atomic():
                for lead in sorted(chosen, key=lambda lead: lead.pk):
                    Lead.objects.filter(pk=lead.pk).update(campaign=pick.choice(campaigns))

    def fold(wait: bool) -> None:
        while not stop.is_set():
            facts_fold(limit=4, wait=wait)

    with ThreadPoolExecutor(max_workers=5) as pool:

        def on_own_connection(work, *args):
            def run():
                try:
                    work(*args)
                finally:
                    connection.close()

            return pool.submit(run)

        folders = [on_own_connection(fold, wait) for wait in (True, False)]
        writers = [on_own_connection(write, seed) for seed in range(3)]
        for future in writers:
            future.result(timeout=120)
        stop.set()
        for future in folders:
            future.result(timeout=60)

    facts_fresh()
    folded = _rows()
    assert not FactsStale.objects.exists()
    facts_rebuild()
    assert folded == _rows()
    assert {row.campaign for row in LeadFacts.objects.all()} <= set(campaigns) | {"Start"}
