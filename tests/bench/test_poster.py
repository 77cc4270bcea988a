"""bench/poster.c: the open-loop poster of bench/pipeline.py, against a small local server."""

import json
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import rig

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")


class Recorder(BaseHTTPRequestHandler):
    bodies: list = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        self.bodies.append((time.monotonic(), json.loads(self.rfile.read(length))))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.bodies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


@pytest.fixture
def poster(tmp_path):
    return rig.native_poster(tmp_path)


def test_it_posts_each_lead_once_at_an_even_rate(server, poster):
    answers = rig.post_at_rate_native(poster, server.server_port, "/x/", "t", 50, 1.0)

    assert [a.status for a in answers] == [201] * 50
    emails = [body["email"] for _, body in Recorder.bodies]
    assert sorted(emails) == sorted(f"t-{n}@{rig.EMAIL_DOMAIN}" for n in range(50))
    assert all(body["company"] == rig.API_VALUES["company"] for _, body in Recorder.bodies)
    arrivals = sorted(at for at, _ in Recorder.bodies)
    # Open loop: 50 posts over one second, not a burst.
    assert 0.85 < arrivals[-1] - arrivals[0] < 1.3


def test_a_server_that_never_answers_leaves_each_post_unanswered_after_the_timeout(poster):
    with socket.socket() as silent:  # accepts connections (the kernel does), reads nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        started = time.monotonic()
        answers = rig.post_at_rate_native(
            poster, silent.getsockname()[1], "/x/", "t", 20, 0.5, timeout=0.5
        )
    assert [a.status for a in answers] == [0] * 10
    assert all(0.5 <= a.seconds < 0.8 for a in answers)
    assert time.monotonic() - started < 2
