"""The sender's HTTP/1.1 on its own sockets: answers read whole (chunked too) so their
connection carries the next request, a long answer cut off with its connection closed, the
answer's charset, and a kept connection the receiver has closed replaced without losing or
doubling the post."""

import socket
import threading
from ipaddress import ip_network

import pytest

from portal.integrations.webhooks import sender

SECRET = "whsec_" + "A" * 32


class RawReceiver:
    """Answers each request with `answer` (bytes as written on the wire); counts requests
    and connections; with `close_after`, closes each connection after its answer without
    saying so (as a receiver's keep-alive time-out does)."""

    def __init__(self, answer: bytes, *, close_after: bool = False):
        self.answer, self.close_after = answer, close_after
        self.requests, self.connections = [], 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._talk, args=(connection,), daemon=True).start()

    def _talk(self, connection):
        with connection:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                while len(data) < length:
                    data += connection.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + data[:length])
                data = data[length:]
                connection.sendall(self.answer)
                if self.close_after:
                    return

    def stop(self):
        self.server.close()


@pytest.fixture
def raw(settings, monkeypatch):
    settings.WEBHOOKS_ALLOWED_NETWORKS = [ip_network("127.0.0.0/8")]
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    monkeypatch.setattr(sender, "_pools", {})
    made = []

    def make(answer: bytes, **options) -> RawReceiver:
        made.append(RawReceiver(answer, **options))
        return made[-1]

    yield make
    for receiver in made:
        receiver.stop()


def _send(url: str, n: int = 1) -> sender.Outcome:
    return sender.send(url=url, secret=SECRET, msg_id=f"msg_{n}", payload={"n": n})


def test_a_chunked_answer_is_read_whole_and_its_connection_carries_the_next_post(raw):
    receiver = raw(
        b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    first, second = _send(receiver.url, 1), _send(receiver.url, 2)
    assert (first.ok, first.status_code, first.excerpt) == (True, 202, "hello world")
    assert second.ok
    assert len(receiver.requests) == 2
    assert receiver.connections == 1


def test_an_answer_longer_than_the_read_limit_is_cut_off_and_its_connection_closed(raw):
    body = b"x" * (sender.READ_AT_MOST + 10)
    receiver = raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    first, second = _send(receiver.url, 1), _send(receiver.url, 2)
    assert first.ok and second.ok
    assert first.excerpt == "x" * sender.EXCERPT
    assert receiver.connections == 2  # not one left with the rest of the answer unread


def test_an_answer_of_exactly_the_read_limit_keeps_its_connection(raw):
    body = b"y" * sender.READ_AT_MOST
    receiver = raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
    assert _send(receiver.url, 1).ok and _send(receiver.url, 2).ok
    assert receiver.connections == 1


def test_the_excerpt_is_decoded_in_the_answers_charset(raw):
    receiver = raw(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=latin-1\r\n"
        b"Content-Length: 6\r\n\r\ncaf\xe9 !"
    )
    outcome = _send(receiver.url)
    assert (outcome.ok, outcome.status_code, outcome.error) == (False, 400, "Answered 400")
    assert outcome.excerpt == "café !"


def test_an_http_1_0_answer_closes_its_connection(raw):
    receiver = raw(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", close_after=True)
    assert _send(receiver.url, 1).ok and _send(receiver.url, 2).ok
    assert receiver.connections == 2


def test_a_kept_connection_the_receiver_closed_as_the_post_went_is_replaced(raw, monkeypatch):
    """The receiver closes each connection after its answer without saying so, and the
    sender does not see it before writing (the race with a receiver's keep-alive time-out):
    the post goes again on a new connection, once, and is answered."""
    receiver = raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close_after=True)
    monkeypatch.setattr(sender, "_closed_by_peer", lambda connection: False)
    assert _send(receiver.url, 1).ok
    second = _send(receiver.url, 2)
    assert second.ok, second.error
    assert [request.count(b"webhook-id: msg_2") for request in receiver.requests] == [0, 1]
    assert receiver.connections == 2


def test_an_idle_connection_the_receiver_closed_is_not_written_on(raw, monkeypatch):
    receiver = raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close_after=True)
    assert _send(receiver.url, 1).ok
    for _ in range(100):  # until the receiver's close has reached this side
        (pool,) = sender._pools.values()
        if pool.idle and sender._closed_by_peer(pool.idle[-1][1]):
            break
        threading.Event().wait(0.01)
    written = []
    monkeypatch.setattr(sender, "_on", lambda c, *a: written.append(c) or _on(c, *a))
    assert _send(receiver.url, 2).ok
    assert len(written) == 1  # the new connection only
    assert receiver.connections == 2


_on = sender._on


def test_nothing_listening_is_a_failed_attempt_saying_so(raw):
    with socket.socket() as probe:  # a port of this machine that no one listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    outcome = _send(f"http://127.0.0.1:{port}/hooks")
    assert not outcome.ok
    assert outcome.error.startswith("ConnectError")
