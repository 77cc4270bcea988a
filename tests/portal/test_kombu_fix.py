"""A worker survives losing Redis while it holds an unacknowledged message (issue 18).

The state is the one the worker was in when it exited for good: the task channel holds one
delivered, unacknowledged message and waits for a BRPOP reply (prefetch 2, one task running),
and a fan-out channel (the worker's control, `celery inspect`) was opened after it. Redis is
killed; then the connection is torn down the way Celery's consumer does after a lost
connection (`Consumer.on_connection_error_after_connected`): `collect()`, then `close()`,
ignoring only connection errors. Before the fix the `close()` raised
AttributeError("'NoneType' object has no attribute 'hostname'"), which Celery calls an
unrecoverable error.
"""

import pytest
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.common import ignore_errors
from kombu.transport import redis as kombu_redis

from portal import kombu_fix
from portal.celery import WAITING_FOR_REDIS
from tests.conftest import needs_redis_server

pytestmark = needs_redis_server

COLLECT_SOCKET_TIMEOUT = 5.0  # Celery's, in on_connection_error_after_connected


@pytest.fixture
def worker_connection(own_redis):
    """A connection in the state above, on the test's own Redis (still running)."""
    connection = Connection(own_redis.url, transport_options=WAITING_FOR_REDIS)
    tasks = Queue("handoff", Exchange("handoff", "direct"), "handoff")
    with Connection(own_redis.url) as publisher:
        Producer(publisher).publish({"n": 1}, routing_key="handoff", declare=[tasks])
    delivered = []
    channel = connection.default_channel
    channel.basic_qos(0, 2, False)
    Consumer(channel, [tasks], callbacks=[lambda _, message: delivered.append(message)]).consume()
    control = Queue("worker.pidbox", Exchange("control", "fanout"), auto_delete=True)
    Consumer(connection.channel(), [control], no_ack=True).consume()
    for _ in range(10):  # the message, the subscription's reply, then nothing: the queue is
        try:  # empty, and the next BRPOP stays in flight
            connection.drain_events(timeout=0.2)
        except TimeoutError:
            break
    assert len(delivered) == 1 and not delivered[0].acknowledged
    assert channel._in_poll, "the task channel should be waiting for a BRPOP reply"
    yield connection
    ignore_errors(connection, connection.close)


def lose_the_connection(connection: Connection) -> None:
    """What Celery's consumer does with its connection once it has lost it."""
    connection.collect(socket_timeout=COLLECT_SOCKET_TIMEOUT)
    ignore_errors(connection, connection.close)


def test_the_fix_is_installed_on_kombus_redis_transport():
    assert kombu_redis.Transport.close_connection is kombu_fix.close_connection


def test_a_connection_lost_with_a_message_unacknowledged_closes_without_an_error(
    worker_connection, own_redis
):
    channel = worker_connection.default_channel
    own_redis.stop()

    lose_the_connection(worker_connection)  # raised AttributeError before the fix

    assert channel.closed
