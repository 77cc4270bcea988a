"""Two people publishing, or adding fields to, one form at once, against PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from leads.capture.models import FormVersion
from leads.capture.services import form_field_add, form_field_update, form_publish
from tests.factories import FormFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def at_once(n: int, work):
    start = Barrier(n)

    def run(i: int):
        try:
            start.wait()
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_simultaneous_publishes_of_one_draft_make_one_new_version():
    form = FormFactory()
    form_field_update(field=form.fields.get(key="company"), label="Organisation")
    versions = at_once(5, lambda i: form_publish(form=form, by=None))
    assert {version.number for version in versions} == {2}
    assert FormVersion.objects.filter(form=form).count() == 2


def test_simultaneous_new_fields_each_get_their_own_position():
    form = FormFactory()
    at_once(5, lambda i: form_field_add(form=form, key=f"extra_{i}", label=f"Extra {i}"))
    positions = list(form.fields.values_list("position", flat=True))
    assert sorted(positions) == list(range(10))
