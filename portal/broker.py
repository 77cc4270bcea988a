"""Questions to the Celery broker that must never hang: each is bounded by `BROKER_TIMEOUT`
(the transport's connect and socket timeouts) and answers None when the broker does not."""

import logging

from django.conf import settings
from kombu.exceptions import ChannelError, KombuError, OperationalError

from portal.celery import app

logger = logging.getLogger(__name__)

BROKER_ERRORS = (KombuError, OperationalError, OSError)


def broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def broker_answers() -> bool:
    """One round trip to the broker (a Redis PING), not only a TCP connect."""
    try:
        with app.connection_for_read() as connection:
            client = getattr(connection.default_channel, "client", None)
            if client is not None:
                client.ping()
    except BROKER_ERRORS as error:
        logger.warning("The broker does not answer: %s", error)
        return False
    return True


def queue_lengths(names: list[str]) -> dict[str, int] | None:
    """Messages waiting in each queue (not those a worker holds unacknowledged)."""
    lengths = {}
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            for name in names:
                try:
                    lengths[name] = channel.queue_declare(queue=name, passive=True).message_count
                except ChannelError:  # Redis drops an empty list: the queue has no messages
                    lengths[name] = 0
    except BROKER_ERRORS as error:
        logger.warning("The broker does not answer: %s", error)
        return None
    return lengths


def workers_seen(*, timeout: float = 1.0) -> list[str] | None:
    """The names of the workers that answer a ping within `timeout` seconds."""
    try:
        replies = app.control.ping(timeout=timeout)
    except BROKER_ERRORS as error:
        logger.warning("The broker does not answer: %s", error)
        return None
    return sorted(name for reply in replies for name in reply)
