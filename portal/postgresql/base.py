"""Django's PostgreSQL backend with a health check that costs no round trip.

`CONN_HEALTH_CHECKS` keeps a persistent connection from failing the first request after the
server restarted or dropped it. Django checks with `SELECT 1` before every request that
touches the database: on the intake that was a fifth of a post's wall time (py-spy), as much
as the lead's INSERT. A server that ends a connection (restart, `pg_terminate_backend`,
idle timeout) sends an error message and closes the socket, so an idle connection whose
socket has something to read is the only one in doubt. This check polls the socket without
waiting: nothing to read, the connection is used; anything there, Django's `SELECT 1`
decides. A peer that vanished without a word (a cable pulled) is not seen until a query
fails, and that request answers 503 (portal.error_handlers) as it would without a check.

It also keeps the names of the statements prepared on the open connection
(`portal.sql.Prepared`): a new connection has none.
"""

import select

from django.db.backends.postgresql import base

READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared_statements: set[str] = set()

    def init_connection_state(self) -> None:
        self.prepared_statements = set()
        super().init_connection_state()

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        poller = select.poll()
        try:
            poller.register(connection.fileno(), READABLE)
        except (OSError, ValueError):
            return False
        if not poller.poll(0):
            return True
        return super().is_usable()
