"""E-mailing notifications, off the request and the handoff, on the notifications queue.

Each task takes recipients' ids and claims their due e-mails (emails.py), so a duplicate
message, a sweep and a retry never send one twice while a send is under way; it then queues
a follow-up for when the users it told are no longer quiet, for what was told them meanwhile.
Beat runs the daily digest and, every minute, the sweeper for e-mails whose message was lost.
"""

import logging
from collections.abc import Sequence
from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from portal.notifications import emails
from portal.task_options import NOTIFY, RETRY

logger = logging.getLogger(__name__)

# A mail server that refused or could not be reached is asked again, with backoff, as a lost
# database is (RETRY): OSError covers refused connections and timeouts.
MAIL_RETRY = {**RETRY, "autoretry_for": (*RETRY["autoretry_for"], SMTPException, OSError)}
# The sweeper leaves alone what its own message is about to send.
SWEEP_GRACE = timedelta(minutes=1)


def queue_emails(recipient_ids: Sequence[int], *, after: timedelta | None = None) -> None:
    """Queue one send for all of `recipient_ids` (`after` this long): a routed batch tells many
    reps at once, and a publish per rep was a sixth of the handoff worker's time (py-spy, 50
    reps). A message the broker refused is the sweeper's."""
    if not recipient_ids:
        return
    countdown = after.total_seconds() if after else None
    try:
        send_emails.apply_async((list(recipient_ids),), countdown=countdown, retry=False)
    except BrokerError as error:
        logger.warning("Could not queue e-mails for users %s: %s", list(recipient_ids), error)


@shared_task(name="notifications.send_emails", **NOTIFY, **MAIL_RETRY)
def send_emails(recipient_ids: int | list[int]) -> None:
    """The recipients' due e-mails (one id, as older messages carry, or a list), sent as one
    batch. A failed message does not stop the others; the task then raises for its retry,
    which finds nothing left to send for those already served (their claims are cleared)."""
    ids = [recipient_ids] if isinstance(recipient_ids, int) else recipient_ids
    sent = emails.emails_send(recipient_ids=ids)
    if settings.LEADBRIDGE_EMAIL_QUIET_SECONDS:
        # What the users told are told while quiet is due when the quiet ends: sent then.
        queue_emails(sent.told, after=emails.email_quiet())
    if sent.error is not None:
        raise sent.error


@shared_task(name="notifications.send_digests", **NOTIFY)
def send_digests() -> None:
    """The daily digest (beat, at NOTIFICATION_DIGEST_HOUR): every recipient with digest
    e-mails due gets one message."""
    recipients = emails.emails_due_recipients(before=timezone.now(), digest_only=True)
    queue_emails(recipients)
    if recipients:
        logger.info("Digest queued for %d users.", len(recipients))


@shared_task(name="notifications.sweep_emails", **NOTIFY)
def sweep_emails() -> None:
    """Queue again the e-mails whose message was lost or whose sender died (its lease ran
    out)."""
    recipients = emails.emails_due_recipients(before=timezone.now() - SWEEP_GRACE)
    queue_emails(recipients)
    if recipients:
        logger.info("Sweeper queued e-mails for %d users again.", len(recipients))
