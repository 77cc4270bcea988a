"""The address a request came from, believing X-Forwarded-For only from our own proxies."""

from ipaddress import IPv4Address, IPv6Address, ip_address

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or, when that peer is in TRUSTED_PROXIES, the X-Forwarded-For entry
    nearest to us that is not a trusted proxy.

    Each proxy appends the address it saw, so the header is read from the right; everything
    left of the first untrusted entry was written by the client and may be forged.
    """
    address = request.META.get("REMOTE_ADDR") or None
    if not settings.TRUSTED_PROXIES:  # no proxy of ours: the peer is the client
        return address
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    while hops and _trusted(address):
        hop = hops.pop().strip()
        if _parsed(hop) is None:
            break
        address = hop
    return address


def _trusted(address: str | None) -> bool:
    parsed = _parsed(address)
    return parsed is not None and any(parsed in proxies for proxies in settings.TRUSTED_PROXIES)


def _parsed(address: str | None) -> IPv4Address | IPv6Address | None:
    try:
        parsed = ip_address(address)
    except ValueError:
        return None
    # A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d.
    return getattr(parsed, "ipv4_mapped", None) or parsed
