"""A real HTTP receiver on 127.0.0.1 in a thread, and the settings that let webhooks reach it
(loopback is refused unless allowed, https is required unless not)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network

import pytest


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A sender that gave up (its time-out) has closed the connection: not news."""


class Receiver:
    """Records every post; answers `status` (503 while "down"), after `delay` seconds."""

    def __init__(self, port: int = 0):
        self.received: list[dict] = []
        self.status = 200
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                with receiver.lock:
                    receiver.received.append(
                        {
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "path": self.path,
                        }
                    )
                    status = receiver.status
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"seen": len(receiver.received)}).encode())

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", port), Handler)
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
