"""Re-scoring in two streams on PostgreSQL: two chunks under way at once, each in its own
thread and transaction, committed in the order of their leads; a chunk that fails leaves
itself and every chunk after it unwritten, and the next run carries on from there."""

import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from leads.capture.services import Provenance, lead_capture
from leads.models import Lead, Stage
from scoring import rescore
from scoring.models import Agreement, Qualification
from tests.factories import AgreementFactory, CriterionFactory, FormFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SIZES = [30, 10, 40, 5, 25, 15, 60]  # v1 (at least 50) qualifies one; v2 (20) three more


@pytest.fixture
def run():
    """Seven leads v1 disqualified, v2 made active (by hand) and its run made: not started."""
    AgreementFactory(version=1)
    for n, size in enumerate(SIZES):
        cleaned = {"email": f"lead{n}@acme.example", "company_size": size}
        lead_capture(form=FormFactory(), payload=cleaned, cleaned=cleaned, provenance=Provenance())
    assert Lead.objects.filter(stage=Stage.DISQUALIFIED).count() == len(SIZES) - 1  # 60 passes
    proposal = Agreement.objects.create(version=2)
    CriterionFactory(agreement=proposal, value=20)
    Agreement.objects.filter(pk=proposal.pk).update(activated_at=timezone.now())
    with transaction.atomic():
        return rescore.rescore_run_create(agreement=proposal)


def judged_by(version: int) -> list[int]:
    """The leads whose current judgement is by this version, in order."""
    current = Qualification.objects.current().filter(agreement__version=version)
    return sorted(current.values_list("lead_id", flat=True))


def open_leads() -> list[int]:
    return sorted(Lead.objects.filter(submissions__isnull=False).values_list("pk", flat=True))


@pytest.fixture
def chunks(monkeypatch):
    """Watches each chunk's judging: which thread, and the order in which chunks commit.
    The first chunk is slow, so the second is judged before it commits."""
    seen = {"threads": set(), "commits": [], "sequential": 0}
    judging, chunk = rescore._rescored, rescore.rescore_chunk

    def watched(leads, agreement, now):
        seen["threads"].add(threading.get_ident())
        first = leads[0][0]
        if first == min(open_leads()):
            time.sleep(0.5)
        transaction.on_commit(lambda: seen["commits"].append(first))
        return judging(leads, agreement, now)

    def counted(**kwargs):
        seen["sequential"] += 1
        return chunk(**kwargs)

    monkeypatch.setattr(rescore, "_rescored", watched)
    monkeypatch.setattr(rescore, "rescore_chunk", counted)
    monkeypatch.setattr(rescore, "STREAMS", 2)
    return seen


def test_two_streams_rescore_every_open_lead_and_commit_chunk_after_chunk(run, chunks):
    disqualified = sorted(
        Lead.objects.filter(stage=Stage.DISQUALIFIED).values_list("pk", flat=True)
    )
    assert rescore.rescore_chunks(run_id=run.pk, size=2) is False

    run.refresh_from_db()
    assert (run.total, run.done, run.qualified, run.percent) == (6, 6, 3, 100)
    assert run.finished_at is not None
    assert run.cursor == disqualified[-1]
    # Each disqualified lead judged once by v2, its v1 judgement kept, superseded.
    assert judged_by(2) == disqualified
    assert Qualification.objects.superseded().count() == 6
    assert Lead.objects.filter(stage=Stage.QUALIFIED).count() == 4  # 60 was qualified by v1
    # Two threads of the task's own did the chunks, in order of their leads; the one chunk
    # worked alone is the last call, which finds nothing left and finishes the run.
    assert threading.get_ident() not in chunks["threads"] and len(chunks["threads"]) == 2
    assert len(chunks["commits"]) == 3 and chunks["commits"] == sorted(chunks["commits"])
    assert chunks["sequential"] == 1


def test_a_failed_chunk_leaves_itself_and_the_chunks_after_it_unwritten(run, chunks, monkeypatch):
    disqualified = sorted(
        Lead.objects.filter(stage=Stage.DISQUALIFIED).values_list("pk", flat=True)
    )
    second = disqualified[2]  # chunks of two: the second chunk starts here
    judging = rescore._rescored

    def failing(leads, agreement, now):
        if leads[0][0] == second:
            raise RuntimeError("the database went away")
        return judging(leads, agreement, now)

    monkeypatch.setattr(rescore, "_rescored", failing)
    with pytest.raises(RuntimeError, match="went away"):
        rescore.rescore_chunks(run_id=run.pk, size=2)

    run.refresh_from_db()
    assert (run.cursor, run.done, run.finished_at) == (disqualified[1], 2, None)
    assert judged_by(2) == disqualified[:2]  # the third chunk waited for the second: undone
    assert set(disqualified[2:]) <= set(judged_by(1))
    assert Lead.objects.filter(pk__in=disqualified[2:], stage=Stage.QUALIFIED).count() == 0

    # The task's retry carries on where the run stopped, judging no lead twice.
    monkeypatch.setattr(rescore, "_rescored", judging)
    assert rescore.rescore_chunks(run_id=run.pk, size=2) is False
    run.refresh_from_db()
    assert (run.done, run.qualified, run.percent) == (6, 3, 100)
    assert judged_by(2) == disqualified
    assert Qualification.objects.superseded().count() == 6


def test_streams_stop_at_the_deadline_and_say_there_is_more(run, chunks):
    assert rescore.rescore_chunks(run_id=run.pk, size=2, until=time.monotonic()) is True
    run.refresh_from_db()
    assert run.finished_at is None and run.done < 6
    assert rescore.rescore_chunks(run_id=run.pk, size=2) is False
    run.refresh_from_db()
    assert (run.done, run.percent) == (6, 100)
