"""A small time-limited cache of rendered pages and computed fragments (similar news).

News pages change when a crawl or a translation lands, not per request; a few seconds of
staleness buys an order of magnitude in throughput. Keys include everything a page depends
on (path, query, reader language); pages in a transient state (translation in progress) are
never cached."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """At most `max_entries`; expired entries are dropped as new ones come in (the soak saw
    the site's memory grow by ~200 MiB of stale pages, kept until 4,096 were reached)."""

    def __init__(self, seconds: float, max_entries: int = 4096, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    def get(self, key: Hashable) -> V | None:
        if not self.enabled:
            return None
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            expires, value = hit
            if expires < self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        if not self.enabled:
            return
        with self._lock:
            now = self._clock()
            self._data[key] = (now + self.seconds, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
            # the oldest entries come first (a hit moves an entry to the end, keeping its
            # time): drop expired ones from the front, a few per put
            for _ in range(8):
                first = next(iter(self._data.items()))
                if first[1][0] >= now:
                    break
                del self._data[first[0]]

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        found = self.get(key)
        if found is not None:
            return found
        value = compute()
        self.put(key, value)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
