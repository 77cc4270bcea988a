from ipaddress import ip_network

import pytest
from django.test import RequestFactory

from portal.net import client_ip


def request(peer: str, forwarded_for: str | None = None):
    headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for}
    return RequestFactory().get("/", REMOTE_ADDR=peer, headers=headers)


@pytest.fixture
def trusted(settings):
    settings.TRUSTED_PROXIES = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")]


def test_with_no_trusted_proxy_forwarded_for_is_ignored():
    assert client_ip(request("10.0.0.2", "198.51.100.99")) == "10.0.0.2"


def test_forwarded_for_from_an_untrusted_peer_is_ignored(trusted):
    assert client_ip(request("203.0.113.7", "198.51.100.99")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("10.0.0.2", "198.51.100.23", "198.51.100.23"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.23", "198.51.100.23"),
        ("10.0.0.2", "198.51.100.23, 10.0.0.3", "198.51.100.23"),
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "198.51.100.23, unknown", "10.0.0.2"),
        ("::ffff:10.0.0.2", "198.51.100.23", "198.51.100.23"),
        ("2001:db8::1", "2001:db8::2,2a00:1450::1", "2a00:1450::1"),
    ],
    ids=[
        "one-proxy",
        "client-written-entries-ignored",
        "chain-of-trusted-proxies",
        "no-header-means-the-proxy-itself",
        "malformed-entry-stops-at-the-last-trusted-hop",
        "ipv4-peer-on-a-dual-stack-socket",
        "ipv6",
    ],
)
def test_a_trusted_proxy_names_the_first_untrusted_address_from_the_right(
    trusted, peer, forwarded_for, client
):
    assert client_ip(request(peer, forwarded_for)) == client


def test_a_connection_without_an_address_has_none():
    assert client_ip(request("")) is None
