"""Counting how often a form is shown, cheaply enough for every page view.

Only the hosted page and the embed's definition (GET) count a view; the intake POSTs never
touch this table, so a busy form's posts do not queue behind its views.
"""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leads.capture.models import Form, FormDailyViews


def form_viewed(*, form: Form, day: date | None = None) -> None:
    """One more view of `form` today: one UPDATE, or the day's first row."""
    day = day or timezone.localdate()
    today = FormDailyViews.objects.filter(form=form, day=day)
    if today.update(views=F("views") + 1):
        return
    try:
        with transaction.atomic():
            FormDailyViews.objects.create(form=form, day=day, views=1)
    except IntegrityError:
        # Another request made the day's row between our UPDATE and INSERT.
        today.update(views=F("views") + 1)
