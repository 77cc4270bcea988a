"""HTTPS to the address the guard checked: the URL's name goes in SNI and the receiver's
certificate is checked against it, so what was checked is what is reached, over TLS too."""

import shutil
import socket
import ssl
import subprocess
from ipaddress import ip_network

import pytest

from portal.integrations.webhooks import sender

from .conftest import Receiver

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs openssl")
NAME = "crm.example.com"


@pytest.fixture
def tls_receiver(tmp_path, settings, monkeypatch):
    """A receiver on 127.0.0.1 with a certificate for NAME that the sender trusts; every name
    resolving to it; the names it was asked for in SNI."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(  # noqa: S603 - openssl, our arguments
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={NAME}",
         "-addext", f"subjectAltName=DNS:{NAME}"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    asked = []
    server.sni_callback = lambda sock, name, context: asked.append(name)
    settings.WEBHOOKS_ALLOWED_NETWORKS = [ip_network("127.0.0.0/8")]
    monkeypatch.setattr(sender, "_pools", {})
    monkeypatch.setattr(sender, "ssl_context", lambda: ssl.create_default_context(cafile=cert))
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, *args, **kw: real("127.0.0.1", *args, **kw)
    )
    found = Receiver(tls=server)
    found.sni = asked
    yield found
    found.stop()


def test_https_reaches_the_checked_address_with_the_name_in_sni_and_its_certificate(
    tls_receiver,
):
    url = f"https://{NAME}:{tls_receiver.port}/hooks"
    outcome = sender.send(url=url, secret="whsec_" + "A" * 32, msg_id="msg_1", payload={"a": 1})
    assert outcome.ok, outcome.error
    assert tls_receiver.sni == [NAME]
    (request,) = tls_receiver.received
    assert request["headers"]["host"] == f"{NAME}:{tls_receiver.port}"


def test_a_certificate_for_another_name_fails_the_attempt_unsent(tls_receiver):
    url = f"https://other.example.com:{tls_receiver.port}/hooks"
    outcome = sender.send(url=url, secret="whsec_" + "A" * 32, msg_id="msg_1", payload={"a": 1})
    assert not outcome.ok
    assert outcome.error.startswith("ConnectError")
    assert "certificate" in outcome.error.lower()
    assert tls_receiver.received == []


def test_a_path_beyond_ascii_is_sent_percent_encoded(receiver):
    url = receiver.url.replace("/hooks", "/hooks/café?to=zoë")
    outcome = sender.send(url=url, secret="whsec_" + "A" * 32, msg_id="msg_1", payload={})
    assert outcome.ok, outcome.error
    assert receiver.received[0]["path"] == "/hooks/caf%C3%A9?to=zo%C3%AB"
