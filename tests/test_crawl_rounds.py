"""A scheduler round with a long backlog of articles still polls the feeds that fall due
meanwhile (found by the soak: a round waited for its whole ingest backlog, so a busy
feed's entries dropped off it before the next poll). A real loopback publisher whose
article pages are slow; one ingest worker, so the round lasts several seconds.

And an article whose fetch fails for now is tried again within the round, after a wait
that doubles (found by the soak: such articles waited for the next round, which under a
backlog comes minutes later, and were still pending when the crawl was stopped)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from babelwire.catalog.loader import catalog_from_specs
from babelwire.catalog.model import SourceSpec
from babelwire.context import Context
from babelwire.ingest.crawl import crawl_once
from babelwire.ingest.pipeline import utcnow
from babelwire.jobs.runner import RunStats
from babelwire.store.models import FAILED, READY, Article, Feed
from tests.support.factories import make_settings
from tests.support.httpserver import LoopbackServer, RecordedRequest, Reply, Route, replies
from tests.support.soak import build_articles, render_page

SLOW = 0.4  # seconds per article page
BACKLOG = 10


def _rss(base: str, paths: list[str]) -> str:
    items = "".join(f"<item><title>Item {i}</title><link>{base}{p}</link></item>"
                    for i, p in enumerate(paths))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T'
            f"</title><link>{base}/</link>{items}</channel></rss>")


def _round(tmp_path: Path, store_url: str, poll_every: float | None
           ) -> tuple[LoopbackServer, list[Article]]:
    arts, _ = build_articles(BACKLOG + 1, 0, 1.0, seed=3)
    server = LoopbackServer({})
    server.start()
    base = server.base_url
    for art in arts:
        server.route(art.path, Reply(body=render_page(base, art), delay=SLOW))
    busy, late = [a.path for a in arts[:BACKLOG]], [arts[BACKLOG].path]
    server.route("/busy.xml", Reply(body=_rss(base, busy), content_type="application/rss+xml"))
    server.route("/late.xml", Reply(body=_rss(base, late), content_type="application/rss+xml"))
    spec = SourceSpec(id="rounds", name="Rounds", homepage=f"{base}/", country="GB",
                      languages=("en",), feeds=(f"{base}/busy.xml", f"{base}/late.xml"))
    settings = make_settings(tmp_path, database_url=store_url, workers=1, embedder="none")
    ctx = Context.open(settings, catalog=catalog_from_specs([spec]))
    try:
        with ctx.db.session() as s:  # the late feed falls due a second into the round
            for feed in s.scalars(select(Feed)):
                feed.next_poll_at = (utcnow() + timedelta(seconds=1.0)
                                     if feed.url.endswith("/late.xml") else None)
        asyncio.run(crawl_once(ctx, due_only=True, poll_every=poll_every))
        with ctx.db.session() as s:
            rows = list(s.scalars(select(Article)))
            s.expunge_all()
    finally:
        ctx.close()
        server.stop()
    return server, rows


@pytest.mark.slow
def test_a_feed_due_during_a_long_round_is_polled_in_it(tmp_path: Path,
                                                        store_url: str) -> None:
    server, rows = _round(tmp_path, store_url, poll_every=0.2)
    [late_poll] = server.requests("/late.xml")
    busy_pages = [r for r in server.requests() if r.route_path.endswith(".html")
                  and not r.route_path.endswith(f"{BACKLOG:05d}.html")]
    assert len(busy_pages) == BACKLOG
    # polled while the backlog was still being fetched, not after it
    assert late_poll.started < max(r.started for r in busy_pages) - 2 * SLOW
    assert len(rows) == BACKLOG + 1 and all(a.status == READY for a in rows), \
        [(a.url, a.status, a.error_reason) for a in rows]


@pytest.mark.slow
def test_without_the_tick_the_round_does_not_poll_it(tmp_path: Path, store_url: str) -> None:
    """The check above can fail: a round that only waits (`crawl --once`) leaves the late
    feed for the next round."""
    server, rows = _round(tmp_path, store_url, poll_every=None)
    assert server.requests("/late.xml") == []
    assert len(rows) == BACKLOG


RETRY = 0.3  # seconds before the second attempt; 0.6 before the third


def _flaky_round(tmp_path: Path, store_url: str, page: Route
                 ) -> tuple[list[RecordedRequest], Article, RunStats]:
    """One round (as `crawl --once`) of a feed with one article page served by `page`;
    returns the requests for the page, the article and the round's statistics."""
    arts, _ = build_articles(1, 0, 1.0, seed=5)
    server = LoopbackServer({})
    server.start()
    base = server.base_url
    server.route(arts[0].path, page)
    server.route("/feed.xml", Reply(body=_rss(base, [arts[0].path]),
                                    content_type="application/rss+xml"))
    spec = SourceSpec(id="flaky", name="Flaky", homepage=f"{base}/", country="GB",
                      languages=("en",), feeds=(f"{base}/feed.xml",))
    settings = make_settings(tmp_path, database_url=store_url, embedder="none",
                             fetch_retries=0, article_max_attempts=3,
                             article_retry_seconds=RETRY)
    ctx = Context.open(settings, catalog=catalog_from_specs([spec]))
    try:
        stats = asyncio.run(crawl_once(ctx))
        with ctx.db.session() as s:
            [row] = s.scalars(select(Article))
            s.expunge_all()
    finally:
        ctx.close()
        server.stop()
    return server.requests(arts[0].path), row, stats


def test_a_failure_that_passes_is_retried_within_the_round(tmp_path: Path,
                                                           store_url: str) -> None:
    arts, _ = build_articles(1, 0, 1.0, seed=5)
    tries, row, stats = _flaky_round(tmp_path, store_url, replies(
        Reply(503), Reply(502), Reply(body=render_page("http://x", arts[0]))))
    assert row.status == READY and row.attempts == 3
    assert len(tries) == 3
    gaps = [b.started - a.started for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= RETRY and gaps[1] >= 2 * RETRY  # the wait doubles
    assert dict(stats.articles) == {READY: 1}  # counted once, as it ended
    assert sum(stats.retried.values()) == 2


def test_a_failure_that_stays_uses_up_the_attempts_in_the_round(tmp_path: Path,
                                                                store_url: str) -> None:
    tries, row, stats = _flaky_round(tmp_path, store_url, Reply(503))
    assert row.status == FAILED and row.attempts == 3 and len(tries) == 3
    assert dict(stats.articles) == {FAILED: 1} and sum(stats.retried.values()) == 2
