"""The whole ingestion pipeline over the demo newsroom served on loopback: feeds in,
articles out, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest import dedup, pipeline
from babelwire.ingest.crawl import crawl_once
from babelwire.store.models import (
    DUPLICATE,
    FAILED,
    PENDING,
    READY,
    SKIPPED,
    Article,
    Block,
    Feed,
    FetchLog,
    Page,
)
from tests.support.factories import make_settings

T = TypeVar("T")


@pytest.fixture
def ctx(tmp_path: Path, store_url: str, newsroom: Any) -> Iterator[Context]:
    settings = make_settings(tmp_path, database_url=store_url)
    context = Context.open(settings, catalog=catalog_from_specs(newsroom.sources()))
    yield context
    context.close()


def run(ctx: Context, coro: Coroutine[Any, Any, T]) -> T:
    """Run one pipeline call in its own event loop and close the fetcher with it."""
    async def wrapper() -> T:
        try:
            return await coro
        finally:
            await ctx.aclose()

    return asyncio.run(wrapper())


def _by_key(ctx: Context) -> dict[str, Article]:
    with ctx.db.session() as s:
        return {a.url_key: a for a in s.scalars(select(Article))}


def test_crawl_stores_every_demo_article_once(ctx: Context, newsroom: Any) -> None:
    stats = asyncio.run(crawl_once(ctx))
    assert stats.feeds["error"] == 0, stats.errors
    articles = _by_key(ctx)
    demo = newsroom.articles()
    by_url = {a.url: a for a in demo}
    wire_copies = {a.url for a in demo if a.wire_of}
    assert wire_copies, "the demo newsroom should include a wire copy"
    for item in demo:
        art = articles.get(dedup.url_key(dedup.canonicalize_url(item.url)))
        assert art is not None, f"lost: {item.url}"
        if item.url in wire_copies:
            assert art.status == DUPLICATE, (item.url, art.status, art.error_reason)
            with ctx.db.session() as s:
                original = s.get(Article, art.duplicate_of)
            assert original is not None and original.status == READY
            assert original.url == dedup.canonicalize_url(item.wire_of or "")
            continue
        assert art.status == READY, (item.url, art.status, art.error_reason, art.error_message)
        assert art.language == item.language.split("-")[0]
        assert art.source_id == item.site and art.country == item.country
        assert art.title == item.title
        assert art.published_at is not None
        assert abs((art.published_at - item.published).total_seconds()) < 60
    assert len(by_url) == len(demo)
    with ctx.db.session() as s:
        ready = list(s.scalars(select(Article).where(Article.status == READY)))
        for art in ready:  # every stored article is complete: blocks and raw page
            assert art.blocks, art.url
            assert s.get(Page, art.id) is not None
        # the text of a demo article is in its blocks, in order
        sample = next(a for a in demo if a.url not in wire_copies)
        stored = articles[dedup.url_key(dedup.canonicalize_url(sample.url))]
        texts = [b.text for b in s.scalars(select(Block).where(Block.article_id == stored.id)
                                           .order_by(Block.position))]
        joined = "\n".join(texts)
        found = sum(1 for p in sample.paragraphs if p in joined)
        assert found >= 0.9 * len(sample.paragraphs)
        assert s.scalar(select(func.count()).select_from(FetchLog)) >= len(demo)


def test_second_crawl_finds_nothing_new(ctx: Context) -> None:
    asyncio.run(crawl_once(ctx))
    before = _by_key(ctx)
    stats = asyncio.run(crawl_once(ctx))
    assert stats.discovered == 0
    assert stats.feeds["error"] == 0
    # the newsroom answers conditional requests: most feeds say "not modified"
    assert stats.feeds["not_modified"] >= 1
    after = _by_key(ctx)
    assert {k: a.status for k, a in after.items()} == {k: a.status for k, a in before.items()}
    with ctx.db.session() as s:
        feeds = list(s.scalars(select(Feed)))
    assert all(f.next_poll_at is not None and f.last_status in ("ok", "not_modified")
               for f in feeds)


def test_ingest_is_idempotent(ctx: Context, newsroom: Any) -> None:
    url = newsroom.articles()[0].url
    aid, created = pipeline.add_url(ctx, url)
    again, created_again = pipeline.add_url(ctx, url + "?utm_source=x#top")
    assert created and not created_again and again == aid
    first = run(ctx, pipeline.ingest(ctx, aid))
    second = run(ctx, pipeline.ingest(ctx, aid))
    assert first.status == READY and not first.unchanged
    assert second.status == READY and second.unchanged
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Block)
                        .where(Block.article_id == aid)) == len(s.get(Article, aid).blocks)


def test_page_fetch_is_logged_once_with_the_stored_article(ctx: Context, newsroom: Any,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          ) -> None:
    """The fetch's log row is written in the store's transaction; when the store fails, it
    is written on its own and the article stays pending (nothing half-stored)."""
    first, second = newsroom.articles()[:2]
    aid, _ = pipeline.add_url(ctx, first.url)
    assert run(ctx, pipeline.ingest(ctx, aid)).status == READY
    with ctx.db.session() as s:
        rows = s.scalars(select(FetchLog).where(FetchLog.kind == "page")).all()
        assert [(r.outcome, r.http_status) for r in rows] == [("ok", 200)]
        assert rows[0].size and rows[0].size > 0

    # fault injection (no real way to make this one transaction fail on cue): the store
    # raises as a full disk would
    def full_disk(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "store_prepared", full_disk)
    bid, _ = pipeline.add_url(ctx, second.url)
    with pytest.raises(OSError):
        run(ctx, pipeline.ingest(ctx, bid))
    with ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(FetchLog)
                        .where(FetchLog.kind == "page", FetchLog.outcome == "ok")) == 2
        art = s.get(Article, bid)
        assert art is not None and art.status == PENDING and art.attempts == 1


def test_missing_page_fails_with_reason_and_log(ctx: Context, newsroom: Any) -> None:
    site = newsroom.sources()[0]
    aid, _ = pipeline.add_url(ctx, site.homepage + "no-such-article.html")
    res = run(ctx, pipeline.ingest(ctx, aid))
    assert res.status == FAILED and res.reason == "http_status"
    with ctx.db.session() as s:
        art = s.get(Article, aid)
        assert art is not None and art.error_message and "404" in art.error_message
        log = s.scalars(select(FetchLog).where(FetchLog.kind == "page")).all()
        assert any(entry.http_status == 404 and entry.outcome == "error" for entry in log)


def test_homepage_is_not_an_article(ctx: Context, newsroom: Any) -> None:
    site = newsroom.sources()[0]
    aid, _ = pipeline.add_url(ctx, site.homepage)
    res = run(ctx, pipeline.ingest(ctx, aid))
    assert res.status in (SKIPPED, READY)
    if res.status == SKIPPED:
        assert res.reason == "not_an_article"
    with ctx.db.session() as s:
        assert s.get(Page, aid) is not None  # the raw page is kept either way


def test_unreachable_article_stays_pending_then_fails(tmp_path: Path, store_url: str,
                                                       newsroom: Any) -> None:
    # A port nothing listens on: connection refused is retryable, up to the attempt limit.
    settings = make_settings(tmp_path, database_url=store_url, article_max_attempts=2,
                             fetch_retries=0)
    ctx = Context.open(settings, catalog=catalog_from_specs(newsroom.sources()))
    try:
        aid, _ = pipeline.add_url(ctx, "http://127.0.0.1:9/nothing-here")
        # robots.txt cannot be read either: a temporary block, retried on a later poll, and
        # it costs no attempt while the host may come back (a robots.txt outage must not
        # fail every article found meanwhile)
        for _ in range(3):
            first = run(ctx, pipeline.ingest(ctx, aid))
            assert first.status == PENDING and first.reason == "robots_disallowed"
        with ctx.db.session() as s:
            art = s.get(Article, aid)
            assert art is not None and art.attempts == 0
            # found long ago: the host had its chance, attempts count again
            art.discovered_at = art.discovered_at - pipeline.HOST_DOWN_PATIENCE
        again = run(ctx, pipeline.ingest(ctx, aid))
        assert again.status == PENDING, again
        second = run(ctx, pipeline.ingest(ctx, aid))
        assert second.status == FAILED and second.reason == "robots_disallowed"
        with ctx.db.session() as s:
            art = s.get(Article, aid)
            assert art is not None and art.attempts == 2
            assert art.error_message and "unreachable" in art.error_message
    finally:
        ctx.close()
