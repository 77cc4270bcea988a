"""The handoff review's writes: freeze a period's panels, tell both teams, keep each side's
notes, and the day and time the managers chose for it."""

from dataclasses import asdict
from datetime import date, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from portal.accounts.roles import Role, role_grants
from portal.dashboard.forms import local_midnight
from portal.dashboard.models import HandoffReview
from portal.dashboard.selectors import REVIEW_SCHEDULE_NAME, Filters
from portal.dashboard.tables import review_tables
from portal.errors import DomainError
from portal.notifications.models import Kind as Told
from portal.notifications.services import Notice, notices_send

REVIEW_DAYS = 14
# Who writes each side's notes: that side's manager (the one who signs agreements for it).
SIDES = {
    "marketing": ("marketing_notes", "scoring.sign_for_marketing"),
    "sales": ("sales_notes", "scoring.sign_for_sales"),
}
NOTES_MAX_LENGTH = 10_000
# Who is told a review is ready: both managers and the marketers.
TOLD = (Role.SALES_MANAGER, Role.MARKETING_MANAGER, Role.MARKETER)
# Beat's entry (django_celery_beat, made by migration dashboard/0004): the managers' weekday
# and time; the task freezes on every other run (`review_due`).
SCHEDULE_TASK = "dashboard.freeze_review"
# Who may set the day and time: either side's manager.
SCHEDULERS = tuple(permission for _, permission in SIDES.values())


def review_filters(since: date, until: date) -> Filters:
    """The dashboard's filters for a review's period: its days, every lead."""
    return Filters(since=local_midnight(since), until=local_midnight(until + timedelta(days=1)))


def review_freeze(*, until: date | None = None, by=None) -> HandoffReview:
    """The review of the two weeks ending `until` (yesterday by default), made once: a second
    call for the same period returns the first review unchanged. A new one tells both
    managers and the marketers (in the portal and by e-mail, queued after the commit)."""
    until = until or timezone.localdate() - timedelta(days=1)
    since = until - timedelta(days=REVIEW_DAYS - 1)
    known = HandoffReview.objects.filter(since=since, until=until).first()
    if known is not None:
        return known
    panels = [asdict(table) for table in review_tables(review_filters(since, until)).values()]
    with transaction.atomic():
        review, made = HandoffReview.objects.get_or_create(
            since=since, until=until, defaults={"panels": panels, "made_by": by}
        )
        if made:
            _tell_both_teams(review, by=by)
    return review


def _tell_both_teams(review: HandoffReview, *, by) -> None:
    told = get_user_model().objects.filter(groups__name__in=TOLD, is_active=True).distinct()
    if by is not None:
        told = told.exclude(pk=by.pk)
    notices_send(
        Notice(
            recipient_id=pk,
            kind=Told.HANDOFF_REVIEW,
            title=f"{review} is ready",
            detail="Handed over, accepted and rejected, service levels, flags, criterion "
            "effectiveness and proposals: the numbers for the meeting, with room for notes.",
            url=review.get_absolute_url(),
        )
        for pk in told.values_list("pk", flat=True)
    )


def review_due(*, today: date | None = None) -> bool:
    """Whether the scheduled run of `today` makes a review: beat runs weekly on the managers'
    day, and a review is made when none ended within the last two weeks (so every other run)."""
    today = today or timezone.localdate()
    return not HandoffReview.objects.filter(until__gte=today - timedelta(days=REVIEW_DAYS)).exists()


def review_scheduled_freeze(*, today: date | None = None) -> HandoffReview | None:
    """Beat's run: the review of the two weeks ending yesterday, if one is due."""
    today = today or timezone.localdate()
    if not review_due(today=today):
        return None
    return review_freeze(until=today - timedelta(days=1))


def review_schedule_set(*, weekday: int, at: time, by) -> PeriodicTask:
    """The weekday (0 Monday ... 6 Sunday) and local time of the review, set by a manager:
    beat's entry is changed in place (django_celery_beat reads it on its next tick)."""
    if not any(role_grants(by, permission) for permission in SCHEDULERS):
        raise PermissionDenied("Only the sales or the marketing manager sets the review's time.")
    if weekday not in range(7):
        raise DomainError("Choose a day of the week.", code="invalid_choice", field="weekday")
    with transaction.atomic():
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=str(at.minute),
            hour=str(at.hour),
            day_of_week=str((weekday + 1) % 7),  # cron counts from Sunday
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        entry, _ = PeriodicTask.objects.update_or_create(
            name=REVIEW_SCHEDULE_NAME,
            defaults={"task": SCHEDULE_TASK, "crontab": crontab, "interval": None, "enabled": True},
        )
    return entry


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
