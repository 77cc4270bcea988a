"""One HTTP attempt: sign the body per Standard Webhooks and post it to the address the guard
resolved, with short timeouts, never following a redirect (it could lead past the guard).

Connections: one client per host name and worker process, holding as many connections to an
address, all kept alive, as the process sends requests at once (`WEBHOOKS_SEND_THREADS`, the
size of sending.py's send pool), so no request waits for a connection and none is closed to
be opened again for the next one.
"""

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
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
    body = body_of(payload)
    headers = signed_headers(secret=secret, msg_id=msg_id, body=body)
    default_port = 443 if target.scheme == "https" else 80
    headers["host"] = target.host if target.port == default_port else f"{target.host}:{target.port}"
    address = f"[{target.address}]" if ":" in target.address else target.address
    timeout = httpx.Timeout(
        settings.WEBHOOKS_TIMEOUT_SECONDS, connect=min(3.0, settings.WEBHOOKS_TIMEOUT_SECONDS)
    )
    try:
        # To the address checked, with the name for the Host header and TLS (SNI and the
        # certificate check), so what was checked is what is reached.
        response = _client(target.host).post(
            f"{target.scheme}://{address}:{target.port}{target.path}",
            content=body.encode(),
            headers=headers,
            timeout=timeout,
            extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
        )
    except httpx.HTTPError as error:
        return Outcome(False, None, f"{type(error).__name__}: {error}"[:300], "", took())
    excerpt = response.text[:EXCERPT]
    ok = 200 <= response.status_code < 300
    error = "" if ok else f"Answered {response.status_code}"
    return Outcome(ok, response.status_code, error, excerpt, took())


_clients: dict[tuple[int, str, int], httpx.Client] = {}
_clients_made = threading.Lock()


def _client(host: str) -> httpx.Client:
    """This process's client for `host`. Its pool keeps connections by address, so it is never
    shared between names: a TLS connection made for one name would otherwise carry another's
    requests past its certificate check. Keyed by the process too: a forked worker never
    writes on its parent's sockets."""
    size = settings.WEBHOOKS_SEND_THREADS
    key = (os.getpid(), host, size)
    client = _clients.get(key)
    if client is None:
        with _clients_made:
            client = _clients.get(key)
            if client is None:
                limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
                client = httpx.Client(follow_redirects=False, trust_env=False, limits=limits)
                _clients[key] = client
    return client
