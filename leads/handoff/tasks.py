"""The handoff, in order. This is the only module that knows what follows what:

1. capture stores a submission and its lead, and says so (`leads.signals.submission_stored`);
2. after that commits, `qualify_submission` judges it by the active agreement (scoring);
3. after a qualifying judgement commits, `route_lead` gives the lead to a rep (routing);
4. `sweep_unfinished_leads` (beat) queues again any step whose message was lost.

Tasks take ids and call one service each; the services claim their work under row locks, so
a second delivery of a message changes nothing.
"""

import logging

from celery import shared_task
from django.db import OperationalError

from leads.handoff.selectors import unfinished_work
from leads.routing.services import lead_route
from scoring.models import Agreement
from scoring.services import submission_qualify

logger = logging.getLogger(__name__)

RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


def after_capture(sender, submission, **kwargs) -> None:
    qualify_submission.delay_on_commit(submission.pk)


@shared_task(name="handoff.qualify_submission", **RETRY)
def qualify_submission(submission_id: int) -> None:
    qualification = submission_qualify(submission_id=submission_id)
    if qualification is not None and qualification.qualified:
        route_lead.delay_on_commit(qualification.lead_id)


@shared_task(name="handoff.route_lead", **RETRY)
def route_lead(lead_id: int) -> None:
    lead_route(lead_id=lead_id)


@shared_task(name="handoff.sweep_unfinished_leads")
def sweep_unfinished_leads() -> None:
    unscored, unrouted = unfinished_work()
    if unscored and Agreement.objects.active() is None:
        logger.warning("%d submissions wait for an active agreement.", len(unscored))
        unscored = []
    for submission_id in unscored:
        qualify_submission.delay(submission_id)
    for lead_id in unrouted:
        route_lead.delay(lead_id)
    if unscored or unrouted:
        logger.info(
            "Sweeper queued %d submissions and %d leads again.", len(unscored), len(unrouted)
        )
