"""The same person submitting twice at once still makes one lead, against PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from leads.capture.services import Provenance, lead_capture
from leads.models import Lead, LeadEvent, Submission
from tests.factories import FormFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_simultaneous_first_submissions_of_one_email_make_one_lead():
    form = FormFactory()
    start = Barrier(6)

    def submit(n: int):
        try:
            start.wait()
            cleaned = {"email": "ana@acme.example", "company": f"Acme {n}"}
            return lead_capture(
                form=form, payload=cleaned, cleaned=cleaned, provenance=Provenance()
            )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        submissions = list(pool.map(submit, range(6)))

    assert Lead.objects.count() == 1
    assert Submission.objects.count() == 6
    assert {submission.lead_id for submission in submissions} == {Lead.objects.get().pk}
    assert LeadEvent.objects.count() == 6
    assert LeadEvent.objects.filter(data__created=True).count() == 1
