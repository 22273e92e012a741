"""Prometheus metrics, by the prometheus-client conventions (`/metrics` on the website,
`babelwire worker --metrics-port` for a worker; `babelwire status` prints the same for a
terminal).

Counters and histograms live in the process that does the work. A worker's jobs run in
forked processes: `babelwire worker --metrics-port` sets PROMETHEUS_MULTIPROC_DIR before
they start, so its endpoint adds them up. What the store and the broker hold (articles by
status, feeds due, jobs queued per stage) is read when scraped (`StoreCollector`).
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from babelwire.context import Context

FETCHES = Counter("babelwire_fetches", "HTTP fetches of feeds and pages, by outcome and "
                  "error reason", ["kind", "outcome", "reason"])
JOBS = Counter("babelwire_jobs", "Jobs finished, by stage and outcome (done, failed)",
               ["stage", "outcome"])
JOB_SECONDS = Histogram("babelwire_job_seconds", "Time one job took, by stage", ["stage"],
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
TRANSLATED_WORDS = Counter("babelwire_translated_words", "Source words machine-translated "
                           "(rate(): words/s)", ["engine"])
TRANSLATE_SECONDS = Counter("babelwire_translate_seconds", "Seconds spent in translation "
                            "engines", ["engine"])
EMBEDDED = Counter("babelwire_embedded_articles", "Articles embedded (rate(): articles/s)")
EMBED_SECONDS = Counter("babelwire_embed_seconds", "Seconds spent embedding")
LIMITED = Counter("babelwire_requests_limited", "Requests refused with a 429 because their "
                  "client passed its bound, by kind (search, pages)", ["kind"])
PAGE_SECONDS = Histogram("babelwire_http_request_duration_seconds", "Website and API "
                         "response time, by route", ["route", "method", "status"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


@functools.cache
def _sqlite_counters() -> tuple[Callable[[], int], Callable[[int], int]] | None:
    import _sqlite3

    try:
        lib = ctypes.CDLL(_sqlite3.__file__)
        used, high = lib.sqlite3_memory_used, lib.sqlite3_memory_highwater
    except (OSError, AttributeError):  # linked statically, or not a shared library
        return None
    used.restype = high.restype = ctypes.c_int64
    high.argtypes = [ctypes.c_int]
    return used, high


def sqlite_memory() -> tuple[int, int] | None:
    """Bytes SQLite holds in this process now, and the most it has held (its page caches,
    schemas and prepared statements: native memory Python's own accounting does not see);
    None when the library's counters cannot be reached."""
    counters = _sqlite_counters()
    if counters is None:
        return None
    used, high = counters
    return int(used()), int(high(0))


class ProcessCollector(Collector):
    """Gauges of this process read at scrape time: the memory SQLite holds in it."""

    def collect(self) -> Iterator[Any]:
        mem = sqlite_memory()
        if mem is not None:
            yield GaugeMetricFamily("babelwire_sqlite_memory_bytes", "Memory SQLite holds in "
                                    "this process (page caches, schemas, statements)",
                                    value=mem[0])
            yield GaugeMetricFamily("babelwire_sqlite_memory_highwater_bytes", "The most "
                                    "memory SQLite has held in this process", value=mem[1])


REGISTRY.register(ProcessCollector())


class StoreCollector(Collector):
    """Gauges read at scrape time: articles by status, feeds, and (with a broker) jobs
    waiting per queue."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Any]:
        from babelwire.status import gather

        report = gather(self.ctx)
        arts = GaugeMetricFamily("babelwire_articles", "Articles in the store, by status",
                                 labels=["status"])
        for status, n in sorted(report["articles"].items()):
            arts.add_metric([status], n)
        yield arts
        feeds = GaugeMetricFamily("babelwire_feeds", "Active feeds: all, due, failing",
                                  labels=["state"])
        for state, n in report["feeds"].items():
            feeds.add_metric([state], n)
        yield feeds
        for name in ("translations", "vectors", "stories"):
            yield GaugeMetricFamily(f"babelwire_{name}", f"{name.capitalize()} stored",
                                    value=report[name])
        queues = report.get("queues")
        if queues is not None:
            q = GaugeMetricFamily("babelwire_jobs_queued", "Jobs waiting in the broker, by "
                                  "queue", labels=["queue"])
            for name, n in queues.items():
                q.add_metric([name], n)
            yield q
            yield GaugeMetricFamily("babelwire_jobs_open", "Jobs of open runs not finished "
                                    "(queued or running)", value=report["jobs_open"])
