"""Business time: when a service level falls due, counted in the sales team's working hours.

Plain Python (house rule 4): no Django, so it is tested on its own and any caller (the lead
page, an escalation task) gets the same answer. Working hours are wall-clock times in the
team's time zone, so a deadline follows daylight saving time the way the team's clocks do.

A wall-clock time that does not exist on a day (the hour skipped when clocks go forward) is
read as Python reads it (fold=0: with the offset before the change), so it lands just after
the change; one that exists twice (clocks go back) is its first occurrence.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Longer than any stretch without working hours that a valid week can have (one working day a
# week, and that day lost once to a daylight-saving change that swallows its hours).
_MAX_GAP_DAYS = 15


@dataclass(frozen=True)
class BusinessHours:
    """Working days (0 = Monday … 6 = Sunday), from `opens` to `closes` in `time_zone`, but
    for the `holidays` (local dates: no working hours that day)."""

    weekdays: frozenset[int]
    opens: time
    closes: time
    time_zone: str
    holidays: frozenset[date] = frozenset()

    def __post_init__(self):
        problem = business_hours_problem(self.weekdays, self.opens, self.closes, self.time_zone)
        if problem:
            raise ValueError(problem[1])

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of one local day as two UTC instants, or None on a day off."""
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        zone = self.zone
        opens = datetime.combine(day, self.opens, tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, self.closes, tzinfo=zone).astimezone(UTC)
        return (opens, closes) if opens < closes else None

    def describe(self) -> str:
        days = _days_words(self.weekdays)
        words = f"{days}, {self.opens:%H:%M} to {self.closes:%H:%M} ({self.time_zone})"
        if self.holidays:
            days_off = ", ".join(f"{day:%a %d %b %Y}" for day in sorted(self.holidays))
            words += f"; closed on {days_off}"
        return words


def holidays_read(text: str) -> tuple[frozenset[date], list[str]]:
    """Dates written as YYYY-MM-DD, one a line or separated by commas: the dates, and the
    words that are not dates."""
    found, bad = set(), []
    for word in text.replace(",", "\n").split():
        try:
            found.add(date.fromisoformat(word.strip()))
        except ValueError:
            bad.append(word.strip())
    return frozenset(found), bad


def business_hours_problem(
    weekdays, opens: time, closes: time, time_zone: str
) -> tuple[str, str] | None:
    """Why these cannot be working hours: (which term, in words); None when they can."""
    if not weekdays or not set(weekdays) <= set(range(7)):
        return "business_days", "Choose at least one working day."
    if opens >= closes:
        return "business_closes", "The working day must open before it closes (the same day)."
    if not is_time_zone(time_zone):
        return "time_zone", f"“{time_zone}” is not a time zone; use a name such as Europe/Berlin."
    return None


def is_time_zone(name: str) -> bool:
    if not name or name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone_choices() -> list[str]:
    return sorted(_zone_names())


def add_business_minutes(start: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The instant `minutes` of working time after `start` (an aware datetime).

    Time outside working hours does not count: a lead routed on Friday evening with four
    hours to answer is due on Monday at four hours after opening. Zero minutes is `start`
    itself. The answer is in the team's time zone.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("The start must be an aware datetime (with its time zone).")
    if minutes < 0:
        raise ValueError("A service level is a number of minutes, not below zero.")
    zone = hours.zone
    if minutes == 0:
        return start.astimezone(zone)
    at = start.astimezone(UTC)
    left = timedelta(minutes=minutes)
    day = at.astimezone(zone).date() - timedelta(days=1)  # a window may begin the day before
    days_off = 0
    while True:
        window = hours.window(day)
        day += timedelta(days=1)
        if window is None or window[1] <= at:
            days_off += 1
            if days_off > _MAX_GAP_DAYS + len(hours.holidays):  # never loop forever
                raise ValueError(f"No working hours found in {hours.describe()}.")
            continue
        days_off = 0
        opens, closes = window
        at = max(at, opens)
        if at + left <= closes:
            return (at + left).astimezone(zone)
        left -= closes - at
        at = closes


def is_business_time(moment: datetime, hours: BusinessHours) -> bool:
    """Whether an aware instant falls within working hours (opening and closing included)."""
    local = moment.astimezone(hours.zone).date()
    for day in (local - timedelta(days=1), local, local + timedelta(days=1)):
        window = hours.window(day)
        if window and window[0] <= moment <= window[1]:
            return True
    return False


def _days_words(weekdays: frozenset[int]) -> str:
    days = sorted(weekdays)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_NAMES[days[0]]} to {WEEKDAY_NAMES[days[-1]]}"
    return ", ".join(WEEKDAY_NAMES[day] for day in days)
