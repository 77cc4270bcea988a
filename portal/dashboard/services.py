"""The handoff review's writes: freeze a period's panels, keep each side's notes."""

from dataclasses import asdict
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from portal.accounts.roles import role_grants
from portal.dashboard.forms import local_midnight
from portal.dashboard.models import HandoffReview
from portal.dashboard.selectors import Filters
from portal.dashboard.tables import all_tables
from portal.errors import DomainError

REVIEW_DAYS = 14
# Who writes each side's notes: that side's manager (the one who signs agreements for it).
SIDES = {
    "marketing": ("marketing_notes", "scoring.sign_for_marketing"),
    "sales": ("sales_notes", "scoring.sign_for_sales"),
}
NOTES_MAX_LENGTH = 10_000


def review_filters(since: date, until: date) -> Filters:
    """The dashboard's filters for a review's period: its days, every lead."""
    return Filters(since=local_midnight(since), until=local_midnight(until + timedelta(days=1)))


def review_freeze(*, until: date | None = None, by=None) -> HandoffReview:
    """The review of the two weeks ending `until` (yesterday by default), made once: a second
    call for the same period returns the first review unchanged."""
    until = until or timezone.localdate() - timedelta(days=1)
    since = until - timedelta(days=REVIEW_DAYS - 1)
    known = HandoffReview.objects.filter(since=since, until=until).first()
    if known is not None:
        return known
    panels = [asdict(table) for table in all_tables(review_filters(since, until)).values()]
    with transaction.atomic():
        review, _ = HandoffReview.objects.get_or_create(
            since=since, until=until, defaults={"panels": panels, "made_by": by}
        )
    return review


def review_notes_save(*, review: HandoffReview, side: str, text: str, by) -> HandoffReview:
    """Keep one side's notes on a review; only that side's manager writes them."""
    if side not in SIDES:
        raise DomainError(f"No side called “{side}”.", code="invalid_choice", field="side")
    field, permission = SIDES[side]
    if not role_grants(by, permission):
        raise PermissionDenied(f"Only the {side} manager writes the {side} notes.")
    text = (text or "").strip()
    if len(text) > NOTES_MAX_LENGTH:
        raise DomainError(
            f"Keep it to {NOTES_MAX_LENGTH} characters (it has {len(text)}).",
            code="max_length",
            field="text",
        )
    setattr(review, field, text)
    review.save(update_fields=[field])
    return review
