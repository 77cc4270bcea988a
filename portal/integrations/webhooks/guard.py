"""The SSRF guard: where a webhook may be sent.

Checked after DNS resolution, on every address the name resolves to, and the sender then
connects to the address checked (sender.py), so a name that resolves to a public address at
the check and to 127.0.0.1 a moment later (DNS rebinding) cannot swap it.
"""

import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

from django.conf import settings

from portal.errors import DomainError


class Refused(DomainError):
    """The URL may not receive webhooks; the message says why, for the `url` field."""

    def __init__(self, message: str):
        super().__init__(message, code="url_refused", field="url")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written in the URL: the Host header and the TLS server name
    port: int
    address: str  # the resolved address the sender connects to
    path: str  # path and query


def url_checked(url: str) -> str:
    """The URL's form alone (scheme, host), without resolving it: for a form's first check."""
    parts = urlsplit(url)
    schemes = ("https",) if settings.WEBHOOKS_REQUIRE_HTTPS else ("https", "http")
    if parts.scheme not in schemes:
        raise Refused(f"Use a URL starting with {' or '.join(f'{s}://' for s in schemes)}.")
    if not parts.hostname:
        raise Refused("The URL has no host name.")
    if parts.username or parts.password:
        raise Refused("Leave user names and passwords out of the URL; the signature proves us.")
    return url


def target_for(url: str) -> Target:
    """Resolve `url`'s host and check every address it resolves to; raises Refused."""
    url_checked(url)
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise Refused("The URL's port is not a number from 1 to 65535.") from error
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Refused(f"The host {parts.hostname} cannot be resolved.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    for address in addresses:
        if not address_allowed(address):
            which = (
                address
                if address == parts.hostname
                else f"{parts.hostname} resolves to {address}, which"
            )
            raise Refused(
                f"{which} is a private, loopback or link-local address: webhooks go only to "
                "public addresses (see WEBHOOKS_ALLOWED_NETWORKS)."
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, addresses[0], path)


def address_allowed(address: str) -> bool:
    parsed: IPv4Address | IPv6Address = ip_address(address.split("%")[0])
    parsed = getattr(parsed, "ipv4_mapped", None) or parsed
    if any(parsed in network for network in settings.WEBHOOKS_ALLOWED_NETWORKS):
        return True
    return parsed.is_global and not parsed.is_multicast
