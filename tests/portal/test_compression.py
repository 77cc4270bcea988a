"""Pages are sent compressed to a client that accepts it, and plain to one that does not."""

import gzip

import pytest

from portal.demo.services import demo_seed

pytestmark = pytest.mark.django_db


def test_the_public_form_is_sent_gzipped_when_the_client_accepts_it(client):
    demo_seed(leads=0)
    plain = client.get("/f/talk-to-sales/")
    packed = client.get("/f/talk-to-sales/", headers={"accept-encoding": "gzip"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert len(packed.content) < len(plain.content) / 2
    assert b"Talk to sales" in gzip.decompress(packed.content)
