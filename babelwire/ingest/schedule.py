"""When to poll a feed next, from how often it publishes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

# How many of the newest entry times the publishing rate is estimated from.
RATE_WINDOW = 20
# Polls per expected new item.
POLLS_PER_ITEM = 2.0


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def next_poll_interval(published: Sequence[datetime], *, now: datetime, min_interval: float,
                       max_interval: float, consecutive_errors: int = 0,
                       new_entries: int | None = None) -> float:
    """Seconds until the next poll of a feed whose entries were published at `published`.

    The rule (deterministic):

    1. Take the newest `RATE_WINDOW` (20) entry times; times after `now` count as `now`;
       naive datetimes are taken as UTC.
    2. Expected gap between items: the mean gap over that window, (newest - oldest) / (n - 1),
       but never less than the age of the newest entry (a feed that has gone quiet is
       expected to stay quiet about as long as it has been). With a single dated entry the
       gap is its age.
    3. Interval = gap / 2 (poll about twice per expected new item); halved again when the
       last poll found `new_entries` >= 2 (we are falling behind).
    4. No dated entries: the geometric middle of the bounds, sqrt(min_interval * max_interval).
    5. Errors: after `consecutive_errors` failed polls in a row, wait at least
       min_interval * 2**consecutive_errors (never shorter than the rule above gives).
    6. Clamp to [min_interval, max_interval].
    """
    if min_interval <= 0 or max_interval < min_interval:
        raise ValueError(f"need 0 < min_interval <= max_interval, got "
                         f"{min_interval}, {max_interval}")
    now = _aware(now)
    times = sorted((min(_aware(t), now) for t in published), reverse=True)[:RATE_WINDOW]
    if not times:
        interval = math.sqrt(min_interval * max_interval)
    else:
        age = (now - times[0]).total_seconds()
        gap = age
        if len(times) > 1:
            mean_gap = (times[0] - times[-1]).total_seconds() / (len(times) - 1)
            gap = max(mean_gap, age)
        interval = gap / POLLS_PER_ITEM
        if new_entries is not None and new_entries >= 2:
            interval /= 2
    if consecutive_errors > 0:
        # Cap the exponent: 2**1000 would overflow a float and max_interval caps anyway.
        backoff = min_interval * 2.0 ** min(consecutive_errors, 64)
        interval = max(interval, backoff)
    return float(min(max(interval, min_interval), max_interval))
