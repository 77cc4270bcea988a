"""Posts racing with one Idempotency-Key make one submission, against PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from leads.models import Lead, LeadEvent, Submission
from tests.factories import FormFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

THREADS = 8


def race(url: str, bodies: list, *, key: str, as_json: bool) -> list:
    """POST each body at once from its own thread and connection; the responses in order."""
    start = Barrier(len(bodies))

    def post(body):
        client = Client(raise_request_exception=False)
        try:
            start.wait()
            if as_json:
                return client.post(
                    url, body, content_type="application/json", headers={"Idempotency-Key": key}
                )
            return client.post(url, body, headers={"Idempotency-Key": key})
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_racing_identical_api_posts_make_one_submission_and_one_answer():
    form = FormFactory()
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    body = {"email": "ana@acme.example", "company": "Acme"}

    responses = race(url, [body] * THREADS, key="retry-1", as_json=True)

    assert [response.status_code for response in responses] == [201] * THREADS
    submission = Submission.objects.get()
    assert {tuple(response.json().items()) for response in responses} == {
        (("submission", submission.pk), ("lead", submission.lead_id))
    }
    assert Lead.objects.count() == 1
    assert LeadEvent.objects.count() == 1


def test_racing_api_posts_with_one_key_and_different_bodies_store_one():
    form = FormFactory()
    url = reverse("capture:api_submission_create", kwargs={"slug": form.slug})
    bodies = [{"email": f"rep{n}@acme.example"} for n in range(THREADS)]

    responses = race(url, bodies, key="retry-1", as_json=True)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (THREADS - 1)
    assert Submission.objects.count() == 1
    assert Lead.objects.count() == 1


def test_racing_identical_form_posts_make_one_submission():
    form = FormFactory()
    url = reverse("capture:form", kwargs={"slug": form.slug})
    body = {"email": "ana@acme.example", "company": "Acme"}

    responses = race(url, [body] * THREADS, key="retry-1", as_json=False)

    assert [response.status_code for response in responses] == [302] * THREADS
    assert Submission.objects.count() == 1
