"""Views of one form counted at once, also the day's first, against PostgreSQL: none lost."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from leads.capture.intake.counters import form_viewed
from leads.capture.models import FormDailyViews
from tests.factories import FormFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_simultaneous_first_views_of_the_day_are_all_counted_in_one_row():
    form = FormFactory()
    n = 8
    start = Barrier(n)

    def view(_):
        try:
            start.wait()
            for _ in range(5):
                form_viewed(form=form)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        list(pool.map(view, range(n)))
    assert list(FormDailyViews.objects.filter(form=form).values_list("views", flat=True)) == [n * 5]
