"""Observability: /metrics in the Prometheus text format (counters of a real crawl of the
loopback newsroom, page latency by endpoint, store gauges) and `babelwire status`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.crawl import crawl_once
from babelwire.status import gather, render
from babelwire.web.app import create_app
from tests.support.factories import make_settings


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _get(app: Any, url: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.get(url)

    return asyncio.run(go())


def test_metrics_after_a_crawl(tmp_path: Path, newsroom: Any) -> None:
    from babelwire import metrics

    before_ok = metrics.FETCHES.labels("page", "ok", "")._value.get()
    ctx = Context.open(make_settings(tmp_path, embedder="none"),
                       catalog=catalog_from_specs(newsroom.sources()))
    try:
        stats = asyncio.run(crawl_once(ctx))
        app = create_app(ctx)
        assert _get(app, "/en/all").status_code == 200
        resp = _get(app, "/metrics")
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
        got = _samples(resp.text)
        ready = stats.articles["ready"]
        assert ready > 0
        assert got[("babelwire_articles", (("status", "ready"),))] == ready
        # every page fetched by the crawl counted once, by outcome
        fetched = got[("babelwire_fetches_total",
                       (("kind", "page"), ("outcome", "ok"), ("reason", "")))]
        assert fetched - before_ok == stats.done
        assert got[("babelwire_jobs_total", (("outcome", "done"), ("stage", "ingest")))] >= \
            stats.done
        # the listing request is in the latency histogram under its endpoint
        key = ("babelwire_http_request_duration_seconds_count",
               (("method", "GET"), ("route", "listing"), ("status", "200")))
        assert got[key] >= 1
        # native memory: what SQLite holds in this process (the crawl's store is SQLite)
        held = got[("babelwire_sqlite_memory_bytes", ())]
        assert 0 < held <= got[("babelwire_sqlite_memory_highwater_bytes", ())]
        report = gather(ctx)
        assert report["articles"]["ready"] == ready and report["runner"] == "in-process"
        assert f"{ready} ready" in render(report)
    finally:
        ctx.close()


def test_sqlite_memory_follows_what_sqlite_holds(tmp_path: Path) -> None:
    import sqlite3

    from babelwire.metrics import sqlite_memory

    before = sqlite_memory()
    assert before is not None  # this Python loads libsqlite3 as a shared library
    conn = sqlite3.connect(tmp_path / "m.db")
    conn.execute("PRAGMA cache_size=-8192")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", (("x" * 500,) for _ in range(8000)))
    conn.commit()
    assert sum(len(r[0]) for r in conn.execute("SELECT x FROM t")) == 4_000_000
    held = sqlite_memory()
    assert held is not None and held[0] > before[0] + 2_000_000  # its page cache, ~4 MB
    conn.close()
    after = sqlite_memory()
    assert after is not None and after[0] < held[0] - 2_000_000 and after[1] >= held[0]
