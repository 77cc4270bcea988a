"""Writing notifications as each user chose, reading them off, and choosing."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from portal.errors import DomainError, NotFound
from portal.notifications.models import DEFAULT_DELIVERY, Delivery, Kind, Notification
from portal.notifications.selectors import preferences_for, unread_count
from portal.notifications.services import (
    Notice,
    next_digest_at,
    notices_send,
    notification_read,
    notifications_read_all,
    preferences_set,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 5, 14, 30, tzinfo=datetime.UTC)


def tell(user, kind=Kind.LEAD_ASSIGNED, title="Ana was assigned to you", **fields):
    return notices_send([Notice(recipient_id=user.pk, kind=kind, title=title, **fields)], at=NOW)


def stored(user) -> Notification:
    return Notification.objects.get(recipient=user)


def test_every_kind_has_a_default():
    assert set(DEFAULT_DELIVERY) == set(Kind.values)


@override_settings(LEADBRIDGE_DIGEST_HOUR=8)
@pytest.mark.parametrize(
    ("delivery", "due"),
    [
        (Delivery.IMMEDIATE, NOW),
        (Delivery.DIGEST, datetime.datetime(2025, 3, 6, 8, 0, tzinfo=datetime.UTC)),
        (Delivery.OFF, None),
    ],
)
def test_the_users_choice_says_when_the_email_goes(rep, delivery, due):
    preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: delivery})
    assert tell(rep) == 1
    notification = stored(rep)
    assert (notification.delivery, notification.email_due_at) == (delivery, due)
    assert notification.read_at is None  # in the portal whatever the e-mail choice


def test_without_a_choice_a_kind_comes_as_its_default(rep):
    tell(rep, kind=Kind.AGREEMENT_ACTIVE, title="Agreement v2 is active")
    assert stored(rep).delivery == DEFAULT_DELIVERY[Kind.AGREEMENT_ACTIVE] == Delivery.DIGEST


def test_a_user_without_an_address_is_told_in_the_portal_only():
    user = UserFactory(email="")
    tell(user)
    assert (stored(user).delivery, stored(user).email_due_at) == (Delivery.OFF, None)


def test_the_same_notice_twice_in_a_batch_is_written_once(rep):
    notice = Notice(recipient_id=rep.pk, kind=Kind.LEAD_BREACHED, title="Taken from you")
    assert notices_send([notice, notice]) == 1


def test_nobody_to_tell_writes_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert notices_send([]) == 0


@override_settings(TIME_ZONE="Europe/Berlin", LEADBRIDGE_DIGEST_HOUR=8)
def test_the_digest_goes_at_the_local_hour_across_a_clock_change():
    berlin = ZoneInfo("Europe/Berlin")
    # Saturday 29 March 2025, 09:00 in Berlin (CET); the clocks go forward that night.
    after_digest = datetime.datetime(2025, 3, 29, 9, 0, tzinfo=berlin)
    assert next_digest_at(after_digest) == datetime.datetime(2025, 3, 30, 8, 0, tzinfo=berlin)
    assert next_digest_at(after_digest).utcoffset() == datetime.timedelta(hours=2)  # CEST
    before_digest = datetime.datetime(2025, 3, 29, 7, 59, tzinfo=berlin)
    assert next_digest_at(before_digest) == datetime.datetime(2025, 3, 29, 8, 0, tzinfo=berlin)


def test_preferences_keep_no_row_for_a_default_and_refuse_an_unknown_choice(rep):
    preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: Delivery.OFF})
    preferences_set(
        user=rep, choices={Kind.LEAD_ASSIGNED: Delivery.OFF, Kind.LEAD_DUE_SOON: "immediate"}
    )
    assert rep.notification_preferences.count() == 1
    assert preferences_for(user=rep)[Kind.LEAD_ASSIGNED] == Delivery.OFF
    preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: DEFAULT_DELIVERY[Kind.LEAD_ASSIGNED]})
    assert rep.notification_preferences.count() == 0
    with pytest.raises(DomainError) as refused:
        preferences_set(user=rep, choices={Kind.LEAD_ASSIGNED: "hourly"})
    assert refused.value.field == Kind.LEAD_ASSIGNED


def test_marking_read_counts_down_and_touches_only_ones_own(rep, other_rep):
    tell(rep)
    tell(rep, title="Bea was assigned to you")
    tell(other_rep)
    assert unread_count(user=rep) == 2
    mine = Notification.objects.filter(recipient=rep).first()
    notification_read(user=rep, notification_id=mine.pk)
    notification_read(user=rep, notification_id=mine.pk)  # again: harmless
    assert unread_count(user=rep) == 1
    theirs = Notification.objects.get(recipient=other_rep)
    with pytest.raises(NotFound):
        notification_read(user=rep, notification_id=theirs.pk)
    assert notifications_read_all(user=rep) == 1
    assert unread_count(user=rep) == 0
    assert unread_count(user=other_rep) == 1
