"""One HTTP attempt: sign the body per Standard Webhooks and post it to the address the guard
resolved, with short timeouts, never following a redirect (it could lead past the guard).

Sent with httpcore, the connection pool and HTTP/1.1 layer under httpx, without httpx's
client on top: that layer (URL parsing, request and response models, redirects, cookies,
auth) cost 0.6 ms of the worker's CPU per request on our 2-core VM, more than everything
else a delivery costs, and a webhook needs none of it (bench/webhooks.py --phases).

Connections: one pool per host name and worker process, holding as many connections to an
address, all kept alive, as the process sends requests at once (`WEBHOOKS_SEND_THREADS`, the
size of sending.py's send pool), so no request waits for a connection and none is closed to
be opened again for the next one.
"""

import codecs
import json
import os
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

import certifi
import httpcore
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
# What the transport raises for a request that got no answer (a TLS failure is a
# ConnectError): a failed attempt, never a failed task.
NO_ANSWER = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    OSError,
)


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
    body = text.encode()
    headers = signed_headers(secret=secret, msg_id=msg_id, body=text)
    host = _ascii_host(target.host)
    default_port = 443 if target.scheme == "https" else 80
    headers["host"] = host if target.port == default_port else f"{host}:{target.port}"
    headers["content-length"] = str(len(body))
    address = f"[{target.address}]" if ":" in target.address else target.address
    path = quote(target.path, safe=PATH_SAFE)
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    extensions = {
        "timeout": {
            "connect": min(3.0, timeout),
            "read": timeout,
            "write": timeout,
            "pool": timeout,
        }
    }
    if target.scheme == "https":
        extensions["sni_hostname"] = host
    try:
        # To the address checked, with the name for the Host header and TLS (SNI and the
        # certificate check), so what was checked is what is reached.
        with _pool(target.host).stream(
            "POST",
            f"{target.scheme}://{address}:{target.port}{path}",
            headers=headers,
            content=body,
            extensions=extensions,
        ) as response:
            answer = _read(response)
    except NO_ANSWER as error:
        return Outcome(False, None, f"{type(error).__name__}: {error}"[:300], "", took())
    excerpt = answer.decode(_charset(response), errors="replace")[:EXCERPT]
    ok = 200 <= response.status < 300
    error = "" if ok else f"Answered {response.status}"
    return Outcome(ok, response.status, error, excerpt, took())


# A URL's path and query as written stay as they are (escapes too); anything else not ASCII
# is percent-encoded as UTF-8, as browsers and httpx do.
PATH_SAFE = "/?#[]@!$&'()*+,;=:%~"


def _ascii_host(host: str) -> str:
    """The name as DNS, the Host header and TLS carry it: IDNA for a non-ASCII one."""
    return host if host.isascii() else host.encode("idna").decode("ascii")


def _read(response: httpcore.Response) -> bytes:
    """The answer's first READ_AT_MOST bytes; read to its end when shorter, so its connection
    is kept for the next request."""
    answer = bytearray()
    for chunk in response.iter_stream():
        answer += chunk
        if len(answer) >= READ_AT_MOST:
            break
    return bytes(answer[:READ_AT_MOST])


def _charset(response: httpcore.Response) -> str:
    """The answer's charset as its Content-Type says, else UTF-8 (as httpx decoded it)."""
    for name, value in response.headers:
        if name.lower() != b"content-type":
            continue
        for param in value.decode("latin-1").split(";")[1:]:
            key, _, charset = param.strip().partition("=")
            if key.lower() == "charset":
                try:
                    return codecs.lookup(charset.strip('"')).name
                except LookupError:
                    return "utf-8"
    return "utf-8"


_pools: dict[tuple[int, str, int], httpcore.ConnectionPool] = {}
_pools_made = threading.Lock()


def _pool(host: str) -> httpcore.ConnectionPool:
    """This process's connections for `host`. A pool keeps them by address, so it is never
    shared between names: a TLS connection made for one name would otherwise carry another's
    requests past its certificate check. Keyed by the process too: a forked worker never
    writes on its parent's sockets."""
    size = settings.WEBHOOKS_SEND_THREADS
    key = (os.getpid(), host, size)
    pool = _pools.get(key)
    if pool is None:
        with _pools_made:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = httpcore.ConnectionPool(
                    ssl_context=ssl_context(),
                    max_connections=size,
                    max_keepalive_connections=size,
                    keepalive_expiry=KEEP_ALIVE_SECONDS,
                )
    return pool


# An idle connection is closed after this long (httpx's default): receivers close theirs too.
KEEP_ALIVE_SECONDS = 5.0


def ssl_context() -> ssl.SSLContext:
    """Certificates checked against certifi's authorities (as httpx did), nothing from the
    environment."""
    return ssl.create_default_context(cafile=certifi.where())
