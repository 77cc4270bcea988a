"""The soak's arithmetic: windows, percentiles, and the verdicts on p95 and memory."""

import itertools
import math
from collections import Counter

from bench.soak import (
    MIX,
    Sample,
    Session,
    Traffic,
    mix_cycle,
    p95_flat,
    percentile,
    slope,
    summary_lines,
    trend,
    windows_of,
)


def test_percentile_is_the_nearest_rank():
    values = [float(x) for x in range(1, 101)]

    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7
    assert math.isnan(percentile([], 0.5))


def test_samples_fall_in_the_window_they_were_sent_in_and_the_warmup_apart():
    samples = [
        Sample("json", -5.0, 0.010),
        Sample("json", 0.0, 0.020),
        Sample("inbox", 59.9, 0.040, "status 500"),
        Sample("json", 60.0, 0.030),
        Sample("json", 130.0, 0.050, "timeout"),  # after the last window: counted in it
    ]

    warmup, first, second = windows_of(samples, window=60, count=2, warmup=10)

    assert (warmup.number, warmup.requests, warmup.start, warmup.end) == (-1, 1, -10, 0)
    assert (first.requests, first.start, first.end) == (2, 0, 60)
    assert first.errors == Counter({"status": 1})
    assert first.error_details == Counter({("inbox", "status 500"): 1})
    assert first.latency["json"].count == 1 and first.latency["all"].count == 2
    assert second.requests == 2 and second.errors == Counter({"timeout": 1})
    assert second.latency["all"].p95 == 0.050


def test_memory_is_the_mean_of_each_windows_readings_by_group():
    readings = [(-3, "gunicorn", 100.0), (0, "gunicorn", 200.0), (30, "gunicorn", 300.0),
                (30, "worker", 50.0), (70, "gunicorn", 400.0)]  # fmt: skip

    first, second = windows_of([], window=60, count=2, rss=readings)

    assert first.rss == {"gunicorn": 250.0, "worker": 50.0}
    assert second.rss == {"gunicorn": 400.0}
    assert math.isnan(first.latency["all"].p95)


def test_slope_is_the_least_squares_line():
    assert slope([0, 1, 2, 3], [1, 3, 5, 7]) == 2
    assert slope([0, 1, 2], [5, 5, 5]) == 0
    assert slope([1], [9]) == 0


def test_memory_that_climbs_steadily_trends_up_but_noise_does_not():
    assert trend([400, 410, 420, 430, 440, 450], tolerance=0.10).rising  # +12.5 %
    assert not trend([400, 404, 398, 402, 401, 399], tolerance=0.10).rising
    assert not trend([400, 402, 404, 406], tolerance=0.10).rising  # +1.5 %: a little, steady
    # One high window at the start (warming up) then flat is not a rising trend.
    assert not trend([440, 400, 400, 400, 400, 400], tolerance=0.10).rising
    assert trend([400, 420], tolerance=0.10).growth == 20
    assert not trend([400], tolerance=0.10).rising


def test_p95_is_flat_unless_the_last_window_exceeds_the_first_by_the_tolerance():
    assert p95_flat(0.100, 0.149, tolerance=0.5)
    assert p95_flat(0.100, 0.050, tolerance=0.5)  # faster at the end is fine
    assert not p95_flat(0.100, 0.151, tolerance=0.5)
    assert not p95_flat(math.nan, 0.1, tolerance=0.5)


def test_the_mix_cycle_holds_each_kind_its_weight_and_spreads_it():
    cycle = mix_cycle(MIX)

    assert Counter(cycle) == Counter(MIX)
    assert len(cycle) == 20
    positions = [i for i, kind in enumerate(cycle) if kind == "json"]
    assert max(b - a for a, b in itertools.pairwise(positions)) <= 10


def test_the_summary_says_errors_flatness_and_trend():
    samples = [Sample("json", 10, 0.1), Sample("json", 70, 0.3, "status 502")]
    readings = [(10, "gunicorn", 100.0 * 2**20), (70, "gunicorn", 200.0 * 2**20)]
    windows = windows_of(samples, window=60, count=2, rss=readings)

    lines, flat, steady = summary_lines(windows, p95_tolerance=0.5, rss_tolerance=0.1)

    assert not flat and not steady
    assert "errors: 1 of 2 requests" in lines
    assert any("RSS gunicorn: 100.0 -> 200.0 MiB" in line and "TRENDS UP" in line for line in lines)


def test_every_rep_both_reads_their_inbox_and_moves_leads():
    traffic = Traffic(port=0, targets={}, timeout=1)
    traffic.reps = [Session(f"rep{i}") for i in range(5)]
    doing: dict[str, set[str]] = {}

    for kind in mix_cycle(MIX) * 5:
        if kind in ("inbox", "move"):
            doing.setdefault(traffic.next_rep(kind).username, set()).add(kind)

    assert doing == {f"rep{i}": {"inbox", "move"} for i in range(5)}
