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
"""

import logging

from django.db import transaction
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


def rescore_run_create(*, agreement: Agreement) -> RescoreRun:
    """The progress row of a re-scoring by `agreement`, counting the leads it will judge."""
    total = Lead.objects.filter(stage__in=RESCORED_STAGES).count()
    return RescoreRun.objects.create(agreement=agreement, total=total)


def rescore_latest(*, agreement: Agreement) -> RescoreRun | None:
    return RescoreRun.objects.filter(agreement=agreement).select_related("agreement").first()


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


def _leads_locked(ids: list[int]) -> list[tuple]:
    """The leads locked, as plain rows (id, stage, attributes): a chunk reads no models."""
    return locks.lead_rows_locked(ids, "stage", "attributes")


def _rescored(leads: list[tuple], agreement: Agreement, now) -> int:
    """Judge these locked leads, (id, stage, attributes) each, by `agreement` and store it
    all; how many now qualify."""
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
    for lead_id, _stage, attributes in leads:
        row = latest.get(lead_id)
        if row is None or row[2] == agreement.version:
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
        before = (
            f"(agreement v{agreement.version}, re-scored when it became active; by "
            f"v{was_version} it was {'qualified' if was_qualified else 'disqualified'} "
            f"with {was_score} points)"
        )
        if verdict.qualified:
            qualified[lead_id] = (verdict.score, f"{summary} {before}")
        else:
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
