"""Re-scoring on activation: the open leads not yet routed, judged again by the version that
has just become active, a chunk at a time, with a progress row the agreement page reads.

Which leads: the disqualified ones (nurture), the only open leads not yet routed that a
verdict still decides. A captured lead is still on its way through the handoff, which judges
it by the version active then; a qualified lead is already handed to routing (and the
lifecycle has no arrow back); a lead a rep has seen (routed, accepted, rejected, ...) is
decided and keeps the verdict of the version that judged it, explanations and all.

A re-scored lead's judgement (its latest submission's current qualification) is superseded
by the new version's: verdict, score, summary and one result per criterion, in a new row. The
old row stays, results and all, marked `superseded_at` (the lead page shows it under
"Earlier judgements"), and the timeline says what it was before. One the new version qualifies
moves to qualified; each chunk that qualified leads says so once (`leads.signals.
leads_qualified`), and the handoff routes them after the commit (beat's sweep stands behind
the message). Everything is written in bulk, in one transaction per chunk, the leads locked.

On PostgreSQL a task works two chunks at once (`rescore_chunks`), each in its own thread,
connection and transaction: one is judged in Python while PostgreSQL writes the other, so
the two halves of the work share the two cores instead of taking turns. The chunks still
commit in order: each waits for the one before it to commit before it moves the progress
row, and moves it only from where that one left it (`cursor`), or rolls back.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from leads import locks
from leads.events import notes_record
from leads.lifecycle import leads_move, leads_scores_save
from leads.models import Lead, Stage
from leads.signals import leads_qualified
from scoring import engine
from scoring.judging import Judge, version_placeholders
from scoring.models import Agreement, Qualification
from scoring.progress import RescoreRun
from scoring.verdict_rows import Judged, qualifications_supersede, verdicts_store

logger = logging.getLogger(__name__)

RESCORED_STAGES = (Stage.DISQUALIFIED,)
CHUNK = 2000
STREAMS = 2  # chunks under way at once on PostgreSQL; 1 works them one after the other


def rescore_run_create(*, agreement: Agreement) -> RescoreRun:
    """The progress row of a re-scoring by `agreement`, counting the leads it will judge."""
    total = Lead.objects.filter(stage__in=RESCORED_STAGES).count()
    return RescoreRun.objects.create(agreement=agreement, total=total)


def rescore_latest(*, agreement: Agreement) -> RescoreRun | None:
    runs = RescoreRun.objects.filter(kind=RescoreRun.Kind.LEADS, agreement=agreement)
    return runs.select_related("agreement").first()


def rescore_chunk(*, run_id: int, size: int = CHUNK) -> bool:
    """Re-score the next `size` open leads of the run; False once it is finished."""
    with transaction.atomic():
        found = locks.rows_locked(RescoreRun, [run_id])
        if not found:
            logger.info("Re-scoring run %s is gone; nothing to do.", run_id)
            return False
        run = found[0]
        if run.finished_at is not None:
            return False
        now = timezone.now()
        agreement = Agreement.objects.get(pk=run.agreement_id)
        ids = list(
            Lead.objects.filter(stage__in=RESCORED_STAGES, pk__gt=run.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[:size]
        )
        if not ids or agreement.retired_at is not None:
            # Done; or a newer version became active and runs its own re-scoring.
            run.finished_at = run.updated_at = now
            run.save(update_fields=["finished_at", "updated_at"])
            return False
        leads = [row for row in _leads_locked(ids) if row[1] in RESCORED_STAGES]
        run.qualified += _rescored(leads, agreement, now)
        run.cursor = ids[-1]
        run.done += len(ids)
        run.updated_at = now
        run.save(update_fields=["qualified", "cursor", "done", "updated_at"])
    return True


def rescore_chunks(*, run_id: int, until: float | None = None, size: int = CHUNK) -> bool:
    """Re-score the run's leads chunk after chunk until it is finished (False) or the
    monotonic clock passes `until` (True: there is more to do)."""
    streams = STREAMS > 1 and connection.vendor == "postgresql"
    if streams and not connection.in_atomic_block and _in_streams(run_id, until, size):
        return True
    # The rest one chunk at a time, where streams cannot run (SQLite, inside a transaction);
    # after them, this finishes the run, or carries on where they stopped.
    while rescore_chunk(run_id=run_id, size=size):
        if until is not None and time.monotonic() > until:
            return True
    return False


@dataclass
class _Turn:
    """A chunk's place in the order of commits: set once it committed (`ok`) or gave up."""

    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


class _OutOfTurn(Exception):
    """The chunk before did not commit, or the run is not where this chunk starts."""


def _in_streams(run_id: int, until: float | None, size: int) -> bool:
    """Plan chunks here (the next `size` open leads after the last one planned) and work
    them in STREAMS threads; True if `until` passed first. Stops at the first chunk that
    could not commit in turn, leaving the rest to `rescore_chunk`; raises what a chunk raised."""
    found = RescoreRun.objects.filter(pk=run_id, finished_at=None).values_list("cursor").first()
    if found is None:
        return False
    after, before = found[0], _Turn(ok=True)
    before.done.set()
    chunks: queue.Queue = queue.Queue(maxsize=1)
    failures: list[BaseException] = []
    stopped = threading.Event()

    def stream() -> None:
        try:
            while (chunk := chunks.get()) is not None:
                if stopped.is_set():  # planned before a chunk failed: it could not commit
                    chunk[-1].done.set()
                    continue
                try:
                    _chunk_in_turn(run_id, *chunk)
                except _OutOfTurn:
                    stopped.set()
                except BaseException as error:  # raised again by the planner, in the task
                    failures.append(error)
                    stopped.set()
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=stream, daemon=True) for _ in range(STREAMS)]
    for thread in threads:
        thread.start()
    late = False
    try:
        while not stopped.is_set():
            if until is not None and time.monotonic() > until:
                late = True
                break
            ids = list(
                Lead.objects.filter(stage__in=RESCORED_STAGES, pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                break
            turn = _Turn()
            chunks.put((after, ids, before, turn))
            after, before = ids[-1], turn
    finally:
        for _ in threads:
            chunks.put(None)
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    return late


def _chunk_in_turn(run_id: int, start: int, ids: list[int], before: _Turn, turn: _Turn) -> None:
    """One chunk, committed only after the chunk before it and only if the run's cursor is
    where this chunk starts; otherwise nothing of it is written."""
    try:
        with transaction.atomic():
            # First of the commit's callbacks: the next chunk may commit once this one did,
            # even if a later callback (the in-process hand-off) raises.
            transaction.on_commit(lambda: setattr(turn, "ok", True))
            run = RescoreRun.objects.filter(pk=run_id).values_list("agreement_id").first()
            if run is None:
                raise _OutOfTurn
            agreement = Agreement.objects.get(pk=run[0])
            if agreement.retired_at is not None:
                raise _OutOfTurn  # `rescore_chunk` finishes the run
            now = timezone.now()
            leads = [row for row in _leads_locked(ids) if row[1] in RESCORED_STAGES]
            qualified = _rescored(leads, agreement, now)
            before.done.wait()
            if not before.ok:
                raise _OutOfTurn
            moved = RescoreRun.objects.filter(pk=run_id, cursor=start, finished_at=None).update(
                cursor=ids[-1],
                done=F("done") + len(ids),
                qualified=F("qualified") + qualified,
                updated_at=now,
            )
            if moved != 1:
                raise _OutOfTurn
    finally:
        turn.done.set()


def _leads_locked(ids: list[int]) -> list[tuple]:
    """The leads locked, as plain rows (id, stage, attributes, score): a chunk reads no
    models."""
    return locks.lead_rows_locked(ids, "stage", "attributes", "score")


def _rescored(leads: list[tuple], agreement: Agreement, now, *, again: str = "") -> int:
    """Judge these locked leads, (id, stage, attributes, score) each, by `agreement` and
    store it all; how many now qualify. `again` says why a lead already judged by this very
    version is judged again (nurture's return date: time-bound criteria may pass now); without
    it such a lead is left as it is."""
    judge = Judge(agreement)
    fields = ["pk", "submission_id", "agreement__version", "qualified", "score"]
    fields += ["submission__received_at", "submission__form_version_id"]
    if judge.needs_submission:
        fields.append("submission__payload")
    latest: dict[int, tuple] = {}
    rows = Qualification.objects.current().filter(lead_id__in=[lead[0] for lead in leads])
    for lead_id, *row in rows.order_by("lead_id", "evaluated_at", "pk").values_list(
        "lead_id", *fields
    ):
        latest[lead_id] = row  # the last one, per lead, wins
    blanks = version_placeholders({row[6] for row in latest.values() if row[6]})
    judged, superseded, notes, qualified, scores = [], [], [], {}, {}
    for lead_id, _stage, attributes, lead_score in leads:
        row = latest.get(lead_id)
        if row is None or (row[2] == agreement.version and not again):
            continue  # never judged (nothing to replace), or judged by this version already
        pk, submission_id, was_version, was_qualified, was_score = row[:5]
        received_at, form_version = row[5:7]
        placeholders = blanks.get(form_version, frozenset())
        answered = None
        if judge.needs_submission:
            payload = row[7] if isinstance(row[7], dict) else {}
            answered = frozenset(
                key for key, value in payload.items() if not engine.is_blank(value, placeholders)
            )
        verdict = judge.compiled(placeholders)(
            attributes, submitted_at=received_at, now=now, answered=answered
        )
        summary = verdict.summary  # written once: a sentence per failed mandatory criterion
        superseded.append(pk)
        judged.append(Judged(lead_id, submission_id, agreement.pk, verdict, summary, now))
        when = again or "re-scored when it became active"
        before = (
            f"(agreement v{agreement.version}, {when}; by "
            f"v{was_version} it was {'qualified' if was_qualified else 'disqualified'} "
            f"with {was_score} points)"
        )
        if verdict.qualified:
            qualified[lead_id] = (verdict.score, f"{summary} {before}")
        else:
            if verdict.score != lead_score:
                # A lead whose score stays is not written: a new version often changes only
                # the threshold or a mandatory criterion, and the lead's row is the costliest
                # to update (every index of it, on a full page).
                scores[lead_id] = verdict.score
            notes.append((lead_id, f"{summary} {before}"))
    # The old judgements stay readable: one UPDATE marks them all, cheaper than the DELETE
    # of their rows and results that replacing them took.
    qualifications_supersede(superseded, at=now)
    verdicts_store(judged)
    leads_scores_save(scores, at=now)
    if qualified:
        # The few that move are read as models: the lifecycle moves them (already locked).
        moving = list(Lead.objects.filter(pk__in=list(qualified)).order_by("pk"))
        for lead in moving:
            lead.score = qualified[lead.pk][0]
        leads_move(
            leads=moving,
            to=Stage.QUALIFIED,
            reasons={pk: reason for pk, (_, reason) in qualified.items()},
            extra_fields=("score",),
        )
        leads_qualified.send(sender=Agreement, lead_ids=[lead.pk for lead in moving])
    notes_record(notes, at=now)
    return len(qualified)
