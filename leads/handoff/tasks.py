"""The handoff, in order. This is the only module that knows what follows what:

1. capture stores a submission and its lead, and says so (`leads.signals.submission_stored`);
2. after that commits, `qualify_submission` judges it by the active agreement (scoring);
3. after a qualifying judgement commits, `route_lead` gives the lead to a rep (routing);
4. `sweep_unfinished_leads` (beat) queues again any step whose message was lost.

Tasks take ids and call one service each; the services claim their work under row locks, so
a second delivery of a message changes nothing. Messages go out through `outbox`: best effort,
after the commit, with the stored row's lease (`services`) standing behind each of them.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from leads.handoff import services
from leads.handoff.outbox import enqueue_on_commit, publish
from leads.routing.services import lead_route
from scoring.models import Agreement
from scoring.services import submission_qualify

logger = logging.getLogger(__name__)

# Latency-critical: its own queue, so bulk work (CELERY_BULK_QUEUE) never delays a new lead.
# acks_late + reject_on_worker_lost: a worker killed mid-task leaves the message to another
# one after the broker's visibility timeout (settings), and the task's claim makes the
# second run harmless.
HANDOFF = {
    "queue": settings.CELERY_HANDOFF_QUEUE,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}
RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


def after_capture(sender, submission, **kwargs) -> None:
    enqueue_on_commit(
        qualify_submission,
        submission.pk,
        release=lambda: services.submissions_release(submission_ids=[submission.pk]),
    )


@shared_task(name="handoff.qualify_submission", **HANDOFF, **RETRY)
def qualify_submission(submission_id: int) -> None:
    submission_qualify(submission_id=submission_id)
    # Also when an earlier delivery scored it and died before this point.
    lead_id = services.submission_scored(submission_id=submission_id)
    if lead_id is not None and services.lead_claim_for_routing(lead_id=lead_id):
        enqueue_on_commit(
            route_lead, lead_id, release=lambda: services.leads_release(lead_ids=[lead_id])
        )


@shared_task(name="handoff.route_lead", **HANDOFF, **RETRY)
def route_lead(lead_id: int) -> None:
    lead_route(lead_id=lead_id)


@shared_task(name="handoff.sweep_unfinished_leads", **HANDOFF)
def sweep_unfinished_leads() -> None:
    unscored = []
    if Agreement.objects.active() is not None:
        unscored = services.submissions_claim()
    else:
        logger.warning("No active agreement: unscored submissions wait for one.")
    unrouted = services.leads_claim_for_routing()
    sent_scoring = _publish_all(
        qualify_submission, unscored, lambda ids: services.submissions_release(submission_ids=ids)
    )
    sent_routing = _publish_all(
        route_lead, unrouted, lambda ids: services.leads_release(lead_ids=ids)
    )
    if sent_scoring or sent_routing:
        logger.info("Sweeper queued %d submissions and %d leads again.", sent_scoring, sent_routing)


def _publish_all(task, ids: list[int], release) -> int:
    """Publish one message per id; at the first failure release the rest and stop."""
    for sent, pk in enumerate(ids):
        if not publish(task, pk):
            release(ids[sent:])
            return sent
    return len(ids)
