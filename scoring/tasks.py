from celery import shared_task
from django.db import OperationalError

from scoring.services import submission_qualify


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def qualify_submission(submission_id: int) -> None:
    submission_qualify(submission_id=submission_id)
