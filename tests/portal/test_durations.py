from datetime import timedelta

import pytest

from portal.durations import duration_words


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=0), "0 s"),
        (timedelta(seconds=24.4), "24 s"),
        (timedelta(seconds=59.4), "59 s"),
        (timedelta(minutes=1), "1 min"),
        (timedelta(minutes=59, seconds=59), "59 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=5, seconds=30), "2 h 5 min"),
        (timedelta(days=1), "1 d"),
        (timedelta(days=1, hours=4, minutes=45), "1 d 4 h"),
        (timedelta(days=40, minutes=1), "40 d"),
    ],
)
def test_a_length_of_time_reads_in_its_two_largest_whole_units(delta, words):
    assert duration_words(delta) == words
