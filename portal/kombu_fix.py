"""One fix to kombu's Redis transport, installed by `portal.celery`: without it a worker
could exit for good when Redis died (issue 18). kombu 5.7.0 and celery 5.7.0 are the newest
releases and kombu's main branch has the same code, so there is nothing to upgrade to.

The chain, in kombu 5.7.0 (`tests/portal/test_kombu_fix.py` rebuilds it):

1. A worker with a task running and a free prefetch slot holds one unacknowledged message on
   its task channel (the connection's default channel) and waits for a BRPOP reply on it.
2. Redis dies and the worker notices on another socket first (the pub/sub one of its control
   channel, `celery inspect`). Celery's `Consumer.on_connection_error_after_connected` calls
   `connection.collect()`, then `connection.close()`, ignoring only connection errors.
3. `collect()` closes the default channel: `Channel.close` first reads the pending BRPOP
   reply, which raises ConnectionError before anything is closed; kombu swallows it. Then
   `Transport.close_connection` closes the other channels one by one and stops at the
   first whose close raises (the control channel deletes its auto-delete queue: Redis is
   down), so the default channel is never closed. Then `collect()` detaches the transport
   from the connection: `transport.client = None`.
4. `connection.close()` closes the default channel again. It now gets as far as giving its
   unacknowledged message back ("Restoring 1 unacknowledged message(s)"), which needs a new
   Redis pool, whose parameters come from `transport.client.hostname`: AttributeError. That
   is not a connection error, so Celery calls it unrecoverable and the worker exits.

The fix is at step 3: every channel gets its close while the transport is still attached,
whatever the others do, so the restore fails (or works) as a connection error, which both
kombu and Celery expect.
"""

import logging

from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)


def close_connection(self, connection) -> None:
    """kombu's `virtual.Transport.close_connection`, except that one channel that fails to
    close does not leave the channels after it open."""
    self.cycle.close()
    errors = self.connection_errors + self.channel_errors
    for channels in self._avail_channels, self.channels:
        while channels:
            _close(channels.pop(), errors)


def _close(channel, errors: tuple) -> None:
    # A Redis channel waiting for a BRPOP reply reads it before closing anything, and raises
    # there when the connection is gone; the read is over after that, so a second try closes.
    for _ in range(2):
        try:
            channel.close()
        except errors as error:
            if channel.closed:
                return
            logger.debug("Closing channel %s on a lost connection: %r", channel.channel_id, error)
        else:
            return


def install() -> None:
    kombu_redis.Transport.close_connection = close_connection
