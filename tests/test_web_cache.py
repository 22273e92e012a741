"""The page cache: entries expire, and expired ones are dropped as new ones come in, so a
site whose pages change keeps only what is fresh (not 4,096 stale pages)."""

from __future__ import annotations

from babelwire.web.cache import TTLCache


def test_expired_entries_leave_as_new_ones_come() -> None:
    now = [0.0]
    cache: TTLCache[str] = TTLCache(10.0, max_entries=1000, clock=lambda: now[0])
    for i in range(200):
        cache.put(f"old{i}", "x" * 100)
    assert cache.get("old5") == "x" * 100 and len(cache) == 200
    now[0] = 11.0  # all expired
    for i in range(30):  # each put drops a few expired entries
        cache.put(f"new{i}", "y")
    assert len(cache) < 200 - 30 * 4
    for i in range(200):
        cache.put(f"newer{i}", "z")
    assert len(cache) == 230  # every expired entry is gone, every fresh one kept
    assert cache.get("old5") is None and cache.get("new3") == "y"
    now[0] = 30.0
    assert cache.get("new3") is None  # expiry on read too


def test_the_entry_bound_holds() -> None:
    cache: TTLCache[int] = TTLCache(60.0, max_entries=5)
    for i in range(20):
        cache.put(i, i)
    assert len(cache) == 5 and cache.get(19) == 19 and cache.get(0) is None


def test_zero_seconds_caches_nothing() -> None:
    cache: TTLCache[int] = TTLCache(0.0)
    cache.put("a", 1)
    assert cache.get("a") is None and len(cache) == 0
