"""Business time: plain Python, no database."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.service_levels import (
    BusinessHours,
    add_business_minutes,
    business_hours_problem,
    is_business_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
OFFICE = BusinessHours(frozenset(range(5)), time(9), time(17), "Europe/Berlin")


def test_within_the_same_working_day():
    start = datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)  # a Monday
    assert add_business_minutes(start, 90, OFFICE) == datetime(2026, 11, 23, 11, 30, tzinfo=BERLIN)


def test_friday_evening_counts_from_monday_morning():
    start = datetime(2026, 11, 27, 18, 30, tzinfo=BERLIN)  # Friday, after closing
    due = add_business_minutes(start, 240, OFFICE)
    assert due == datetime(2026, 11, 30, 13, 0, tzinfo=BERLIN)


def test_the_rest_carries_over_to_the_next_working_day():
    start = datetime(2026, 11, 26, 16, 0, tzinfo=BERLIN)  # Thursday, an hour before closing
    due = add_business_minutes(start, 120, OFFICE)
    assert due == datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)


def test_a_holiday_counts_no_working_time():
    christmas = OFFICE.__class__(
        OFFICE.weekdays,
        OFFICE.opens,
        OFFICE.closes,
        OFFICE.time_zone,
        frozenset({date(2026, 12, 24), date(2026, 12, 25)}),
    )
    start = datetime(2026, 12, 23, 16, 0, tzinfo=BERLIN)  # Wednesday, an hour before closing
    # Thursday and Friday off, then the weekend: the second hour is on Monday.
    assert add_business_minutes(start, 120, christmas) == datetime(
        2026, 12, 28, 10, 0, tzinfo=BERLIN
    )
    assert not is_business_time(datetime(2026, 12, 24, 11, 0, tzinfo=BERLIN), christmas)
    assert "closed on Thu 24 Dec 2026, Fri 25 Dec 2026" in christmas.describe()


def test_a_start_in_another_zone_is_read_as_the_same_instant():
    start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    assert add_business_minutes(start, 60, OFFICE) == datetime(2026, 11, 23, 10, tzinfo=BERLIN)


def test_the_day_clocks_go_forward_in_berlin_has_an_hour_less_at_night_not_at_work():
    night = BusinessHours(frozenset(range(7)), time(0), time(6), "Europe/Berlin")
    start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)  # 00:00 CET; 02:00 becomes 03:00
    due = add_business_minutes(start, 300, night)  # 5 working hours: 00:00 to 06:00 is only 5
    assert due == datetime(2026, 3, 29, 6, 0, tzinfo=BERLIN)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=5)  # real hours


def test_sao_paulo_midnight_change_of_2018_is_counted_in_real_minutes():
    # Brazil's clocks went from 00:00 to 01:00 on 4 Nov 2018: that day's 00:00 never existed.
    all_day = BusinessHours(frozenset(range(7)), time(0), time(23, 59), "America/Sao_Paulo")
    start = datetime(2018, 11, 3, 23, 0, tzinfo=SAO_PAULO)
    due = add_business_minutes(start, 120, all_day)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2, minutes=1)
    assert is_business_time(due, all_day)


def test_bad_hours_are_refused_with_a_reason():
    assert business_hours_problem(set(), time(9), time(17), "Europe/Berlin")[0] == "business_days"
    assert business_hours_problem({0}, time(17), time(9), "Berlin")[0] == "business_closes"
    field, message = business_hours_problem({0}, time(9), time(17), "Mars/Olympus")
    assert (field, "is not a time zone" in message) == ("time_zone", True)
    assert business_hours_problem({0, 6}, time(9), time(17), "Europe/Berlin") is None
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(datetime(2026, 1, 1), 5, OFFICE)  # noqa: DTZ001


ZONES = st.sampled_from(["Europe/Berlin", "America/Sao_Paulo", "UTC", "Asia/Kolkata"])
HOURS = st.builds(
    lambda days, opens, length, zone: BusinessHours(
        frozenset(days),
        time(opens // 60, opens % 60),
        time(min(opens + length, 24 * 60 - 1) // 60, min(opens + length, 24 * 60 - 1) % 60),
        zone,
    ),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 20 * 60),
    st.integers(30, 12 * 60),
    ZONES,
)
# Years with daylight saving in both zones (Brazil stopped in 2019), around their changes too.
STARTS = st.datetimes(
    min_value=datetime(2017, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
MINUTES = st.integers(0, 10 * 24 * 60)


@settings(max_examples=300, deadline=None)
@given(STARTS, MINUTES, HOURS)
def test_the_due_time_is_never_before_the_start(start, minutes, hours):
    assert add_business_minutes(start, minutes, hours) >= start


@settings(max_examples=300, deadline=None)
@given(STARTS, MINUTES, MINUTES, HOURS)
def test_adding_a_then_b_is_adding_a_plus_b(start, a, b, hours):
    once = add_business_minutes(start, a + b, hours)
    twice = add_business_minutes(add_business_minutes(start, a, hours), b, hours)
    assert once == twice


@settings(max_examples=300, deadline=None)
@given(STARTS, st.integers(1, 10 * 24 * 60), HOURS)
def test_a_due_time_falls_within_working_hours(start, minutes, hours):
    due = add_business_minutes(start, minutes, hours)
    assert is_business_time(due, hours)
    local = due.astimezone(hours.zone)
    offsets = {(due + timedelta(days=d)).astimezone(hours.zone).utcoffset() for d in (-1, 1)}
    if len(offsets) == 1:
        # Away from a daylight-saving change, the wall clock says the same.
        assert local.weekday() in hours.weekdays
        assert hours.opens <= local.time().replace(tzinfo=None) <= hours.closes


@settings(max_examples=200, deadline=None)
@given(STARTS, HOURS)
def test_zero_minutes_is_the_start_itself(start, hours):
    assert add_business_minutes(start, 0, hours) == start


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 5 * 24 * 60), st.sampled_from(["Europe/Berlin", "America/Sao_Paulo"]))
def test_working_minutes_are_real_minutes_even_across_daylight_saving(minutes, zone):
    # Round the clock: every minute is a working minute, so the due time is the start plus
    # exactly that many real minutes, whatever the clocks on the wall did meanwhile.
    always = BusinessHours(frozenset(range(7)), time(0), time(23, 59), zone)
    for start in (
        datetime(2026, 3, 28, 22, 0, tzinfo=UTC),  # Berlin, the night clocks go forward
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC),  # Berlin, the night they go back
        datetime(2018, 11, 3, 12, 0, tzinfo=UTC),  # Sao Paulo, forward at midnight
        datetime(2019, 2, 16, 12, 0, tzinfo=UTC),  # Sao Paulo, back at midnight
    ):
        due = add_business_minutes(start, minutes, always)
        # 23:59 to 00:00 is the only minute a day that is not working time, except the hour
        # that happens twice when clocks go back: its wall times count once, the first time.
        elapsed = due - start
        assert timedelta(minutes=minutes) <= elapsed <= timedelta(minutes=minutes + 6 + 60)
