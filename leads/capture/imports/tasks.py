"""The CSV import's background work, on the bulk queue so an import never delays a new lead.

A task imports for at most half its soft time limit, then queues itself again for the rest:
each run is short, and the import's cursor (moved under a row lock per chunk) makes a second
delivery of the same message harmless.
"""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError

from leads.capture.imports.models import LeadImport
from leads.capture.imports.services import import_fail, import_run, imports_claim_stalled
from portal.task_options import BULK, RETRY

logger = logging.getLogger(__name__)


def queue_import(lead_import_id: int) -> bool:
    """Send the import's next run to the bulk queue; False (logged) if the broker refused."""
    try:
        run_import.apply_async((lead_import_id,), retry=False)
    except BrokerError as error:
        logger.warning("Could not queue import %s: %s", lead_import_id, error)
        return False
    return True


@shared_task(name="capture.run_import", **BULK, **RETRY)
def run_import(lead_import_id: int) -> None:
    try:
        lead_import = import_run(
            lead_import_id=lead_import_id,
            budget_seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT / 2,
        )
    except OperationalError:
        raise  # retried
    except Exception as error:
        logger.exception("Import %s failed.", lead_import_id)
        import_fail(lead_import_id=lead_import_id, why=f"{type(error).__name__}: {error}")
        return
    if lead_import.status == LeadImport.Status.RUNNING:
        queue_import(lead_import_id)


@shared_task(name="capture.sweep_imports", **BULK)
def sweep_imports() -> None:
    """Queue again the imports whose message was lost (beat, with the handoff's sweeper)."""
    stalled = imports_claim_stalled()
    sent = sum(queue_import(pk) for pk in stalled)
    if sent:
        logger.info("Sweeper queued %d imports again.", sent)
