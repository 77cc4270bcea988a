"""The handoff, in order. This is the only module that knows what follows what:

1. capture stores a submission and its lead, and says so (`leads.signals.submission_stored`);
   after that commits, one `hand_off` message wakes a worker; a re-scoring that qualifies
   leads says so too, once per chunk (`leads.signals.leads_qualified`);
2. `hand_off` judges every submission due by the active agreement (scoring), a batch at a
   time, then
3. gives every qualified lead due to a rep (routing), a batch at a time, until nothing is due,
   except a lead only an import told "do not hand open leads to reps" brought: that one is
   kept in nurture for marketing (`services.leads_keep_from_reps`);
4. beat wakes `hand_off` every `SWEEP_EVERY_SECONDS` too, so work whose message was lost
   (Redis down, a publish that timed out) is done all the same;
5. beat runs `escalate` every `ESCALATE_EVERY_SECONDS`: the escalation ladder of every lead a
   rep holds (routing's `leads_escalate`, then `leads_remind`: breaches first, since they
   restart or stop the clocks whose reminders would follow), a batch at a time;
6. beat runs `nurture_return` every `NURTURE_EVERY_SECONDS`: a recycled lead whose return
   day has come is judged again (scoring), and one that qualifies goes to step 3;
7. beat runs `dashboard.fold_facts` every `FACTS_FOLD_EVERY_SECONDS` on the bulk queue: the
   dashboard's roll-up recounts the leads the steps above marked (portal/dashboard/facts.py),
   outside their transactions and off this queue's worker.

A batch is whatever is waiting, not a timer: at a trickle it is one lead, under a backlog
`HANDOFF_BATCH` of them. The claims lock their rows with SKIP LOCKED (`services`), so two
workers split the work, and a message that finds nothing due costs two small queries.
"""

import functools
import logging
import time
from collections.abc import Callable, Sequence

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, transaction

from leads.handoff import services
from leads.handoff.outbox import message_waiting, publish, wake_on_commit
from leads.routing.escalation import leads_escalate, leads_remind
from leads.routing.services import RELEASE_TASK, leads_route, pools_release
from portal.task_options import BULK, HANDOFF, RETRY
from scoring.clocks import leads_back_from_nurture
from scoring.models import Agreement
from scoring.services import submissions_qualify
from scoring.tasks import runs_resend

logger = logging.getLogger(__name__)

BATCH = settings.LEADBRIDGE_HANDOFF_BATCH
# A run costs ~12 ms of CPU and ~4 ms of PostgreSQL's however few leads it finds (claims,
# locks, commits), a lead ~1 ms more. Under a steady stream a message came for every few
# leads, and the runs' fixed cost took more of the two cores than the intake: at 200 leads/s,
# 6 ms of worker CPU a lead. So a worker process starts a run no sooner than this after it
# started its previous one; the leads stored meanwhile make the next batch bigger. After a
# quiet spell, or a run longer than this (a backlog), the next starts at once.
PACE_SECONDS = settings.LEADBRIDGE_HANDOFF_PACE_SECONDS
_previous_run_started = float("-inf")
# A drain hands the rest to a new message after this long, well inside its soft time limit.
BUDGET_SECONDS = settings.CELERY_TASK_SOFT_TIME_LIMIT / 2


def after_capture(sender, submission, **kwargs) -> None:
    wake_on_commit(_hand_off())


def after_qualified(sender, lead_ids, **kwargs) -> None:
    """A re-scoring qualified a batch of leads: one message routes them after the commit."""
    wake_on_commit(_hand_off())


@functools.cache
def _hand_off() -> Task:
    """`hand_off` itself: `shared_task` gives a proxy that looks the task up again on every
    attribute read, which was a third of waking it after each post (py-spy)."""
    return hand_off._get_current_object()


@shared_task(name="handoff.hand_off", **HANDOFF, **RETRY)
def hand_off() -> None:
    """Score, then route, whatever is due, a batch at a time, until nothing is."""
    if not (hand_off.request.called_directly or hand_off.request.is_eager):
        _keep_pace()
    _drain()


# On the handoff queue: on the bulk one an import or a re-scoring could hold a rep's room
# for minutes. The outbox sends no `hand_off` while any message waits in the handoff queue
# (`message_waiting`), so every task there drains what is due when it runs.
@shared_task(name=RELEASE_TASK, **HANDOFF, **RETRY)
def release_pools(queue_ids: list[int], rep_ids: list[int]) -> None:
    """Route the leads waiting in the pools these queues or reps may take from (a release
    that finds them routed or claimed by another does nothing: `pools_release`), then
    whatever else is due."""
    pools_release(queue_ids=queue_ids, rep_ids=rep_ids)
    _drain()


# Beat's sweeper behind the re-scorings and clocks' recounts (scoring/resume.py), on the
# handoff queue so that a bulk worker that is down ends in a run given up with the reason;
# like every task there, it then drains what is due (the outbox sends no `hand_off` while a
# message waits in this queue).
@shared_task(name="handoff.resume_stalled_runs", **HANDOFF, **RETRY)
def resume_stalled_runs() -> None:
    runs_resend()
    _drain()


def _drain() -> None:
    """Score, then route, a batch at a time, until nothing is due or the budget is spent
    (a new message takes the rest)."""
    stop_at = time.monotonic() + BUDGET_SECONDS
    helped = False
    try:
        while True:
            scored, routed = _score_batch(), _route_batch()
            if scored < BATCH and routed < BATCH:
                return
            if not helped:
                helped = _ask_for_help()
            if time.monotonic() >= stop_at:
                break
    except SoftTimeLimitExceeded:
        # Each batch commits or rolls back whole, so stopping between two loses nothing.
        logger.warning("hand_off ran out of time; a new message takes the rest.")
    publish(hand_off)  # the rest in a new message; beat stands behind it


def _ask_for_help() -> bool:
    """More than a batch is due: one more message, so another worker process takes a share
    (SKIP LOCKED splits the work). The outbox sends none while a message waits, so a backlog
    of 10,000 left by a stopped worker has one or two, not one per post; without this, one
    process drained it while the other idled until beat's next wake."""
    if hand_off.app.conf.task_always_eager:  # in-process: there is no other worker
        return True
    if not message_waiting(hand_off):
        publish(hand_off)
    return True


def _keep_pace() -> None:
    global _previous_run_started
    wait = _previous_run_started + PACE_SECONDS - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    _previous_run_started = time.monotonic()


def _score_batch() -> int:
    if not Agreement.objects.active_versions().exists():  # one row's existence, per batch
        logger.info("No active agreement: submissions wait to be scored.")
        return 0
    with transaction.atomic():
        submissions = services.submissions_claim(limit=BATCH)
        _together_or_one_by_one(submissions, lambda batch: submissions_qualify(submissions=batch))
        # Judged ones are done; what is left failed, or no active agreement judges its form yet.
        services.submissions_done(submission_ids=[s.pk for s in submissions])
    return len(submissions)


def _route_batch() -> int:
    with transaction.atomic():
        leads = services.leads_claim_for_routing(limit=BATCH)
        kept = services.leads_not_for_reps(leads=leads) if leads else []
        services.leads_keep_from_reps(leads=kept)
        kept_ids = {lead.pk for lead in kept}
        to_route = [lead for lead in leads if lead.pk not in kept_ids]
        failed = _together_or_one_by_one(to_route, lambda batch: leads_route(leads=batch))
        services.leads_put_off(lead_ids=[lead.pk for lead in failed])
    return len(leads)


ESCALATION_BATCH = settings.LEADBRIDGE_ESCALATION_BATCH


# On the bulk queue: the outbox's "a message already waits" holds only while every task on
# the handoff queue drains what is due (tests/leads/handoff/test_outbox.py).
@shared_task(name="handoff.escalate", **BULK, **RETRY)
def escalate() -> None:
    """The ladder of every due clock: breaches, then reminders, a batch at a time, until
    none is due or the budget is spent (beat's next run takes the rest)."""
    stop_at = time.monotonic() + BUDGET_SECONDS
    for step in (leads_escalate, leads_remind):
        while step(limit=ESCALATION_BATCH) == ESCALATION_BATCH:
            if time.monotonic() >= stop_at:
                return


@shared_task(name="handoff.nurture_return", **BULK, **RETRY)
def nurture_return() -> None:
    """Recycled leads whose return day has come, judged again; those that qualify are routed
    by `hand_off` (the re-scoring's `leads_qualified` wakes it)."""
    stop_at = time.monotonic() + BUDGET_SECONDS
    while leads_back_from_nurture(limit=BATCH) == BATCH:
        if time.monotonic() >= stop_at:
            return


def _together_or_one_by_one(items: Sequence, work: Callable[[Sequence], object]) -> list:
    """Do `work` on the batch; if it fails, on each item alone. The items that failed alone.

    Only a lost database (OperationalError, retried) or the time limit stops the task:
    anything else is one bad row, logged and put off, while the rest of the batch goes on.
    """
    if not items:
        return []
    try:
        with transaction.atomic():
            work(items)
        return []
    except (OperationalError, SoftTimeLimitExceeded):
        raise
    except Exception:  # one bad row: log it, keep the others moving
        if len(items) == 1:
            logger.exception("The handoff could not take %r; it is tried again later.", items[0])
            return list(items)
        logger.exception("A batch of %d failed; taking them one by one.", len(items))
    failed = []
    for item in items:
        try:
            with transaction.atomic():
                work([item])
        except (OperationalError, SoftTimeLimitExceeded):
            raise
        except Exception:
            logger.exception("The handoff could not take %r; it is tried again later.", item)
            failed.append(item)
    return failed
