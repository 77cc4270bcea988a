"""How a due time reads on the lead's timeline: in the team's time zone, to the minute."""

from datetime import UTC, datetime

from leads.clock import Levels

BERLIN = Levels(minutes={}, add=None, is_open=None, time_zone="Europe/Berlin")


def test_a_time_reads_in_the_teams_zone_to_the_minute():
    assert (
        BERLIN.words(datetime(2026, 11, 30, 12, 0, 59, 999, tzinfo=UTC)) == "Mon Nov 30, 13:00 CET"
    )
    assert BERLIN.words(datetime(2026, 11, 30, 12, 1, tzinfo=UTC)) == "Mon Nov 30, 13:01 CET"


def test_the_words_of_one_minute_follow_the_daylight_saving_change():
    # Clocks went back in Berlin at 01:00 UTC on 25 Oct 2026.
    assert BERLIN.words(datetime(2026, 10, 25, 0, 59, 30, tzinfo=UTC)) == "Sun Oct 25, 02:59 CEST"
    assert BERLIN.words(datetime(2026, 10, 25, 1, 0, 30, tzinfo=UTC)) == "Sun Oct 25, 02:00 CET"
    other = Levels(minutes={}, add=None, is_open=None, time_zone="America/New_York")
    assert other.words(datetime(2026, 10, 25, 1, 0, 30, tzinfo=UTC)) == "Sat Oct 24, 21:00 EDT"
