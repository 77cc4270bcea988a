"""bench/smtp_sink.py: the pipeline bench's mail server takes what Django's SMTP backend sends,
over one session or many, and counts every message."""

import asyncio
import contextlib
import threading

import pytest
from django.core.mail import EmailMessage, get_connection

from bench import smtp_sink
from bench.intake import free_port


@pytest.fixture
def sink(tmp_path):
    port, tally = free_port(), tmp_path / "tally"
    loop = asyncio.new_event_loop()
    task = loop.create_task(smtp_sink.serve(port, tally))

    def run():
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield port, tally
    loop.call_soon_threadsafe(task.cancel)
    thread.join(5)
    loop.close()


def smtp(port):
    backend = "django.core.mail.backends.smtp.EmailBackend"
    return get_connection(backend, host="127.0.0.1", port=port, timeout=5)


def message(n):
    body = f"line one\n.a line starting with a dot\n.\nmessage {n}\n"
    return EmailMessage(subject=f"m{n}", body=body, to=[f"rep{n}@bench.example"])


def test_it_takes_every_message_of_one_session_and_of_several(sink):
    port, tally = sink
    for _ in range(50):  # the server starts in its thread
        try:
            with smtp(port) as connection:
                assert connection.send_messages([message(1), message(2)]) == 2
            break
        except ConnectionRefusedError:
            threading.Event().wait(0.05)
    assert smtp(port).send_messages([message(3)]) == 1  # a session of its own

    assert smtp_sink.messages_taken(tally) == 3
