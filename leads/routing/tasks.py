import logging

from celery import shared_task
from django.db import OperationalError

from leads.routing.services import lead_route, unfinished_work

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def route_lead(lead_id: int) -> None:
    lead_route(lead_id=lead_id)


@shared_task
def sweep_unfinished_leads() -> None:
    # Imported here because scoring imports this module to route what it qualifies.
    from scoring.models import Agreement
    from scoring.tasks import qualify_submission

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
