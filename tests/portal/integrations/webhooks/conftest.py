"""A real HTTP receiver on 127.0.0.1 in a thread, and the settings that let webhooks reach it
(loopback is refused unless allowed, https is required unless not)."""

import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network

import pytest


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 64  # a sender's whole pool connecting at once

    def handle_error(self, request, client_address):
        """A sender that gave up (its time-out) has closed the connection: not news."""


class Receiver:
    """Records every post; answers `status` (503 while "down"), after `delay` seconds. With
    `keep_alive` it speaks HTTP/1.1 and keeps connections open between requests. Counts the
    connections it was opened (by the client's address and port), the most open at once and
    the most requests in flight at once."""

    def __init__(self, port: int = 0, tls: ssl.SSLContext | None = None):
        self.received: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.keep_alive = False
        self.lock = threading.Lock()
        self.connections: set[tuple] = set()
        self.open = self.most_open = 0
        self.in_flight = self.most_in_flight = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            @property
            def protocol_version(self):
                return "HTTP/1.1" if receiver.keep_alive else "HTTP/1.0"

            def setup(self):
                super().setup()
                with receiver.lock:
                    receiver.connections.add(self.client_address)
                    receiver.open += 1
                    receiver.most_open = max(receiver.most_open, receiver.open)

            def finish(self):
                with receiver.lock:
                    receiver.open -= 1
                super().finish()

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                try:
                    if receiver.delay:
                        threading.Event().wait(receiver.delay)
                finally:
                    with receiver.lock:
                        receiver.in_flight -= 1
                with receiver.lock:
                    receiver.received.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "path": self.path,
                        }
                    )
                    status = receiver.status
                answer = json.dumps({"seen": len(receiver.received)}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", port), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.received]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOWED_NETWORKS = [ip_network("127.0.0.0/8")]
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    found = Receiver()
    yield found
    found.stop()
