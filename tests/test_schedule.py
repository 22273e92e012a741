"""next_poll_interval: rate-based polling, back-off, bounds."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from babelwire.ingest.schedule import next_poll_interval

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
MIN, MAX = 300.0, 21_600.0


def _every(gap: timedelta, count: int = 20, *, newest_age: timedelta = timedelta(0)
           ) -> list[datetime]:
    return [NOW - newest_age - i * gap for i in range(count)]


def _interval(published: list[datetime], **kwargs: object) -> float:
    return next_poll_interval(published, now=NOW, min_interval=MIN, max_interval=MAX,
                              **kwargs)  # type: ignore[arg-type]


def test_busy_feed_polls_at_the_minimum() -> None:
    assert _interval(_every(timedelta(minutes=2), newest_age=timedelta(minutes=1))) == MIN


def test_quiet_feed_polls_at_the_maximum() -> None:
    assert _interval(_every(timedelta(days=3), count=10, newest_age=timedelta(days=1))) == MAX


def test_hourly_feed_polls_about_twice_an_hour() -> None:
    interval = _interval(_every(timedelta(hours=1), newest_age=timedelta(minutes=10)))
    assert interval == pytest.approx(1800)


def test_busier_feeds_poll_more_often() -> None:
    gaps = [timedelta(minutes=m) for m in (5, 15, 30, 60, 120, 240, 600)]
    intervals = [_interval(_every(gap)) for gap in gaps]
    assert intervals == sorted(intervals)
    assert intervals[0] < intervals[-1]


def test_feed_gone_quiet_slows_down() -> None:
    busy = _every(timedelta(minutes=10))
    silent = _every(timedelta(minutes=10), newest_age=timedelta(hours=3))
    assert _interval(silent) > _interval(busy)
    assert _interval(silent) == pytest.approx(3 * 3600 / 2)


def test_no_dated_entries_gives_a_middle_value() -> None:
    interval = _interval([])
    assert MIN < interval < MAX
    assert interval == pytest.approx(math.sqrt(MIN * MAX))


def test_errors_back_off_exponentially_up_to_max() -> None:
    busy = _every(timedelta(minutes=1))
    intervals = [_interval(busy, consecutive_errors=n) for n in range(10)]
    assert intervals[0] == MIN
    assert intervals[1:5] == [MIN * 2, MIN * 4, MIN * 8, MIN * 16]
    assert intervals == sorted(intervals)
    assert intervals[-1] == MAX
    assert _interval(busy, consecutive_errors=10_000) == MAX


def test_errors_never_poll_a_quiet_feed_more_often() -> None:
    quiet = _every(timedelta(hours=4))
    assert _interval(quiet, consecutive_errors=1) >= _interval(quiet)


def test_many_new_entries_shorten_the_interval() -> None:
    hourly = _every(timedelta(hours=1))
    assert _interval(hourly, new_entries=5) < _interval(hourly, new_entries=0)
    assert _interval(hourly, new_entries=1) == _interval(hourly)


def test_naive_and_future_times() -> None:
    naive = [t.replace(tzinfo=None) for t in _every(timedelta(hours=1))]
    assert _interval(naive) == _interval(_every(timedelta(hours=1)))  # naive = UTC
    future = [NOW + timedelta(days=400), *_every(timedelta(hours=2))[1:]]
    assert MIN <= _interval(future) <= MAX


def test_bounds_always_respected_and_deterministic() -> None:
    rng = random.Random(20240601)
    for _ in range(300):
        times = [NOW - timedelta(seconds=rng.uniform(-3600, 30 * 86400))
                 for _ in range(rng.randint(0, 40))]
        lo = rng.uniform(10, 1000)
        hi = lo * rng.uniform(1, 200)
        errors, new = rng.randint(0, 12), rng.choice([None, 0, 1, 5])
        first = next_poll_interval(times, now=NOW, min_interval=lo, max_interval=hi,
                                   consecutive_errors=errors, new_entries=new)
        assert lo <= first <= hi
        assert next_poll_interval(times, now=NOW, min_interval=lo, max_interval=hi,
                                  consecutive_errors=errors, new_entries=new) == first


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 10.0), (100.0, 50.0), (-5.0, 10.0)])
def test_invalid_bounds(lo: float, hi: float) -> None:
    with pytest.raises(ValueError):
        next_poll_interval([], now=NOW, min_interval=lo, max_interval=hi)
