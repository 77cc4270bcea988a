"""The SSRF guard: private, loopback and link-local addresses are refused after DNS
resolution, unless allowed in settings; the sender connects to the address it checked."""

import socket
from ipaddress import ip_network

import pytest

from portal.integrations.webhooks.guard import Refused, target_for
from portal.integrations.webhooks.sender import send

REFUSED = [
    "https://127.0.0.1/hook",
    "https://127.1.2.3/hook",
    "https://10.0.0.5/hook",
    "https://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "https://0.0.0.0/hook",
    "https://[::1]/hook",
    "https://[fe80::1]/hook",
    "https://[fd00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://100.64.0.1/hook",  # carrier-grade NAT
    "https://localhost/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_an_address_inside_is_refused(url):
    with pytest.raises(Refused) as refused:
        target_for(url)
    assert refused.value.field == "url"


def _resolving(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """getaddrinfo answering `answers` for their names; the names asked, in order."""
    asked = []
    real = socket.getaddrinfo

    def fake(host, port, *args, **kwargs):
        asked.append(host)
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in a else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (a, port),
                )
                for a in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


def test_a_public_name_that_resolves_to_loopback_is_refused(monkeypatch):
    _resolving(monkeypatch, {"crm.example.com": ["127.0.0.1"]})
    with pytest.raises(Refused, match=r"127\.0\.0\.1"):
        target_for("https://crm.example.com/hook")


def test_a_name_with_one_inside_address_among_public_ones_is_refused(monkeypatch):
    _resolving(monkeypatch, {"crm.example.com": ["93.184.216.34", "10.1.2.3"]})
    with pytest.raises(Refused, match=r"10\.1\.2\.3"):
        target_for("https://crm.example.com/hook")


def test_a_public_address_passes_and_keeps_the_name_for_tls(monkeypatch):
    _resolving(monkeypatch, {"crm.example.com": ["93.184.216.34"]})
    target = target_for("https://crm.example.com:8443/hook?x=1")
    assert (target.host, target.address, target.port, target.path) == (
        "crm.example.com",
        "93.184.216.34",
        8443,
        "/hook?x=1",
    )


def test_a_network_allowed_in_settings_passes(settings, monkeypatch):
    settings.WEBHOOKS_ALLOWED_NETWORKS = [ip_network("10.1.0.0/16")]
    _resolving(monkeypatch, {"crm.internal": ["10.1.2.3"]})
    assert target_for("https://crm.internal/hook").address == "10.1.2.3"
    with pytest.raises(Refused):
        target_for("https://10.2.0.1/hook")


def test_production_takes_only_https(settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    with pytest.raises(Refused, match="https://"):
        target_for("http://93.184.216.34/hook")
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    assert target_for("http://93.184.216.34/hook").port == 80


@pytest.mark.parametrize(
    "url", ["ftp://93.184.216.34/x", "https:///nohost", "https://u:p@93.184.216.34/"]
)
def test_a_url_that_is_not_a_plain_web_address_is_refused(url):
    with pytest.raises(Refused):
        target_for(url)


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_reached(
    receiver, monkeypatch
):
    """A rebinding resolver (public first, loopback after) cannot swap the address: the
    sender asks once and connects to what it checked, sending the name as Host."""
    asked = _resolving(monkeypatch, {"crm.example.com": ["127.0.0.1"]})
    url = f"http://crm.example.com:{receiver.port}/hooks"
    outcome = send(url=url, secret="whsec_" + "A" * 32, msg_id="msg_1", payload={"a": 1})
    assert outcome.ok, outcome.error
    assert [name for name in asked if name != "127.0.0.1"] == ["crm.example.com"]
    (request,) = receiver.received
    assert request["headers"]["host"] == f"crm.example.com:{receiver.port}"


def test_the_sender_refuses_a_name_that_now_resolves_inside(monkeypatch, receiver, settings):
    settings.WEBHOOKS_ALLOWED_NETWORKS = []
    _resolving(monkeypatch, {"crm.example.com": ["127.0.0.1"]})
    url = f"http://crm.example.com:{receiver.port}/hooks"
    outcome = send(url=url, secret="whsec_" + "A" * 32, msg_id="msg_1", payload={})
    assert not outcome.ok
    assert "127.0.0.1" in outcome.error
    assert receiver.received == []
