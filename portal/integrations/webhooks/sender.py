"""One HTTP attempt: sign the body per Standard Webhooks and post it to the address the guard
resolved, with short timeouts, never following a redirect (it could lead past the guard).

The request is written by hand (one `sendall` of the head and body) on a socket of our own,
connected to the checked address and, for https, wrapped with the URL's name for SNI and the
certificate check; the answer is read by the standard library's `http.client.HTTPResponse`
(status line, headers, Content-Length or chunked, HTTP/1.0 and `Connection: close`). A
webhook needs nothing else of an HTTP client, and the layers we had (httpx's client, then
httpcore and h11 under it) cost the worker more CPU per request than everything else a
delivery does: bench/webhooks.py --phases, docs/performance.md.

Connections: kept alive, one idle list per host name and worker process (`_pools`), at most
`WEBHOOKS_SEND_THREADS` of them (the size of sending.py's send pool, so no request waits for
one). An idle one is dropped after KEEP_ALIVE_SECONDS, or when the receiver has closed it
(readable while idle); a request that a reused connection fails before any answer came (the
receiver closed it as we wrote) is sent once more on a new one, under the same webhook-id.
"""

import codecs
import json
import os
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPException, HTTPResponse
from urllib.parse import quote

import certifi
from django.conf import settings
from standardwebhooks import Webhook

from portal.integrations.webhooks.guard import Refused, Target, target_for

EXCERPT = 1000
USER_AGENT = "LeadBridge-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int


def body_of(payload: dict) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str)


def signed_headers(*, secret: str, msg_id: str, body: str, at: datetime | None = None) -> dict:
    at = at or datetime.now(tz=UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


def resolved(url: str) -> Target | Refused:
    """Where `url` may be sent now (the guard's check, after DNS), or why not."""
    try:
        return target_for(url)
    except Refused as error:
        return error


# The answer is read up to this much (a longer one is cut off, its connection closed); the
# first EXCERPT characters of it are logged.
READ_AT_MOST = 64 * 1024


class NoAnswer(Exception):
    """The request got no answer; `kind` names the step that failed, as the attempt log
    shows it (ConnectError, ConnectTimeout, WriteError, ReadTimeout, RemoteProtocolError...).
    `before_answer`: nothing of an answer was read, so the request may be sent again."""

    def __init__(self, kind: str, cause: BaseException, *, before_answer: bool = False):
        super().__init__(f"{kind}: {cause}")
        self.kind, self.before_answer = kind, before_answer


def send(
    *, url: str, secret: str, msg_id: str, payload: dict, target: Target | Refused | None = None
) -> Outcome:
    """One attempt. `target`: the URL as the guard resolved it for a batch to one endpoint
    (a second or so ago), else resolved now."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    target = resolved(url) if target is None else target
    if isinstance(target, Refused):
        return Outcome(False, None, target.message[:300], "", took())
    text = body_of(payload)
    headers = signed_headers(secret=secret, msg_id=msg_id, body=text)
    try:
        request = _request_bytes(target, headers, text.encode())
        status, content_type, answer = _exchange(target, request)
    except NoAnswer as error:
        return Outcome(False, None, str(error)[:300], "", took())
    excerpt = answer.decode(_charset(content_type), errors="replace")[:EXCERPT]
    ok = 200 <= status < 300
    return Outcome(ok, status, "" if ok else f"Answered {status}", excerpt, took())


# A URL's path and query as written stay as they are (escapes too); anything else not ASCII
# is percent-encoded as UTF-8, as browsers and httpx do. Spaces and control characters are
# encoded too, so nothing in the path can end the request line.
PATH_SAFE = "/?#[]@!$&'()*+,;=:%~"


def _request_bytes(target: Target, headers: dict[str, str], body: bytes) -> bytes:
    host = _ascii_host(target.host)
    default_port = 443 if target.scheme == "https" else 80
    head = [
        f"POST {quote(target.path, safe=PATH_SAFE)} HTTP/1.1",
        f"host: {host if target.port == default_port else f'{host}:{target.port}'}",
        *(f"{name}: {value}" for name, value in headers.items()),
        f"content-length: {len(body)}",
    ]
    if any("\r" in line or "\n" in line for line in head):
        raise NoAnswer("LocalProtocolError", ValueError("a line break in a request header"))
    try:
        return "\r\n".join(head).encode("ascii") + b"\r\n\r\n" + body
    except UnicodeEncodeError as error:
        raise NoAnswer("LocalProtocolError", error) from error


def _ascii_host(host: str) -> str:
    """The name as DNS, the Host header and TLS carry it: IDNA for a non-ASCII one."""
    return host if host.isascii() else host.encode("idna").decode("ascii")


def _exchange(target: Target, request: bytes) -> tuple[int, str, bytes]:
    """Send `request` on a kept connection to the target, or a new one; its answer's status,
    Content-Type and first READ_AT_MOST bytes. A kept connection the receiver closed as we
    wrote is replaced once."""
    pool = _pool(target)
    connection = pool.take()
    if connection is not None:
        try:
            return _on(connection, pool, request)
        except NoAnswer as error:
            if not error.before_answer:
                raise
    return _on(pool.connect(), pool, request)


def _on(connection: socket.socket, pool: "_Pool", request: bytes) -> tuple[int, str, bytes]:
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    response, kept = None, False
    try:
        connection.settimeout(timeout)
        try:
            connection.sendall(request)
        except TimeoutError as error:
            raise NoAnswer("WriteTimeout", error) from error
        except OSError as error:
            raise NoAnswer("WriteError", error, before_answer=True) from error
        response = HTTPResponse(connection, method="POST")
        try:
            response.begin()
        except TimeoutError as error:
            raise NoAnswer("ReadTimeout", error) from error
        except (HTTPException, ConnectionError) as error:
            # The connection ended without a status line (RemoteDisconnected), or a reset.
            nothing = isinstance(error, ConnectionError)
            raise NoAnswer("RemoteProtocolError", error, before_answer=nothing) from error
        except OSError as error:
            raise NoAnswer("ReadError", error) from error
        try:
            answer = response.read(READ_AT_MOST)
            # Read to its end, so the connection can carry the next request.
            whole = response.isclosed() or (not response.will_close and not response.read(1))
        except TimeoutError as error:
            raise NoAnswer("ReadTimeout", error) from error
        except HTTPException as error:
            raise NoAnswer("RemoteProtocolError", error) from error
        except OSError as error:
            raise NoAnswer("ReadError", error) from error
        kept = whole and not response.will_close
        return response.status, response.getheader("content-type", ""), answer
    finally:
        if kept:
            pool.give_back(connection)
        else:
            if response is not None:
                response.close()  # its file holds the socket open until closed
            connection.close()


def _charset(content_type: str) -> str:
    """The answer's charset as its Content-Type says, else UTF-8 (as httpx decoded it)."""
    for param in content_type.split(";")[1:]:
        key, _, charset = param.strip().partition("=")
        if key.lower() == "charset":
            try:
                return codecs.lookup(charset.strip('"')).name
            except LookupError:
                return "utf-8"
    return "utf-8"


# An idle connection is closed after this long (httpx's default): receivers close theirs too.
KEEP_ALIVE_SECONDS = 5.0


class _Pool:
    """This process's idle connections to one host name's checked address and port. Never
    shared between names: a TLS connection made for one name would otherwise carry another's
    requests past its certificate check."""

    def __init__(self, target: Target, size: int) -> None:
        self.scheme, self.port, self.size = target.scheme, target.port, size
        self.address, self.host = target.address, _ascii_host(target.host)
        self.tls = ssl_context() if target.scheme == "https" else None
        self.idle: list[tuple[float, socket.socket]] = []
        self.lock = threading.Lock()

    def take(self) -> socket.socket | None:
        """The most recently used idle connection still open, or None."""
        now = time.monotonic()
        while True:
            with self.lock:
                if not self.idle:
                    return None
                since, connection = self.idle.pop()
            if now - since < KEEP_ALIVE_SECONDS and not _closed_by_peer(connection):
                return connection
            connection.close()

    def give_back(self, connection: socket.socket) -> None:
        with self.lock:
            if len(self.idle) < self.size:
                self.idle.append((time.monotonic(), connection))
                return
        connection.close()

    def connect(self) -> socket.socket:
        """A new connection to the checked address; for https, TLS with the URL's name (SNI,
        and the certificate checked against it), so what was checked is what is reached."""
        timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        connection = socket.socket(family, socket.SOCK_STREAM)
        try:
            connection.settimeout(min(3.0, timeout))
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection.connect((self.address, self.port))
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_hostname=self.host)
        except TimeoutError as error:
            connection.close()
            raise NoAnswer("ConnectTimeout", error) from error
        except OSError as error:  # refused, unreachable, a TLS failure (ssl.SSLError)
            connection.close()
            raise NoAnswer("ConnectError", error) from error
        return connection


def _closed_by_peer(connection: socket.socket) -> bool:
    """An idle connection with something to read has been closed by the receiver (or carries
    what no request asked for): either way not one to send on."""
    if isinstance(connection, ssl.SSLSocket) and connection.pending():
        return True
    poller = select.poll()
    try:
        poller.register(connection, select.POLLIN)
    except (OSError, ValueError):
        return True
    return bool(poller.poll(0))


_pools: dict[tuple, _Pool] = {}
_pools_made = threading.Lock()


def _pool(target: Target) -> _Pool:
    """This process's connections for the target's name, address and port. Keyed by the
    process too: a forked worker never writes on its parent's sockets."""
    size = settings.WEBHOOKS_SEND_THREADS
    key = (os.getpid(), target.scheme, target.host, target.address, target.port, size)
    pool = _pools.get(key)
    if pool is None:
        with _pools_made:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = _Pool(target, size)
    return pool


def ssl_context() -> ssl.SSLContext:
    """Certificates checked against certifi's authorities (as httpx did), nothing from the
    environment."""
    return ssl.create_default_context(cafile=certifi.where())
