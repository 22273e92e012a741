"""SSRF at every entry that takes a URL: feed discovery, an OPML import, a submitted URL.
A real server on loopback stands for the private network: with the default settings
(no allow list) nothing may reach it, and where loopback is allowed for the test, the
addresses a hostile page or file names (cloud metadata, private ranges, IPv6 forms of
them) are refused before any connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select

from babelwire.catalog import SourceSpec
from babelwire.catalog.loader import catalog_from_specs
from babelwire.catalog.opml import from_opml
from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.ingest.crawl import crawl_once
from babelwire.ingest.fetch import FetchError
from babelwire.store.models import FAILED, Feed
from tests.support.factories import make_settings
from tests.support.httpserver import LoopbackServer, Reply

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>One</title><link>{link}</link></item></channel></rss>"""
T = TypeVar("T")
PRIVATE = ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/rss.xml",
           "http://[::ffff:169.254.169.254]/feed", "http://[fd00::1]/feed",
           "http://0.0.0.0/feed", "http://2130706433/feed", "http://127.1/feed"]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer({}) as s:
        yield s


def _ctx(tmp_path: Path, allow: tuple[str, ...],
         specs: Sequence[SourceSpec] = ()) -> Context:
    return Context.open(make_settings(tmp_path, fetch_allow_networks=allow,
                                      database_url=f"sqlite:///{tmp_path}/s.db"),
                        catalog=catalog_from_specs(list(specs)))


def _run(ctx: Context, coro: Awaitable[T]) -> T:
    async def go() -> T:
        try:
            return await coro
        finally:
            await ctx.aclose()

    return asyncio.run(go())


def test_discovery_of_a_private_homepage_is_refused(tmp_path: Path,
                                                     server: LoopbackServer) -> None:
    server.route("/", Reply(body="<html><head><title>x</title></head></html>"))
    ctx = _ctx(tmp_path, allow=())
    try:
        with pytest.raises(FetchError) as info:
            _run(ctx, pipeline.discover_source_feeds(ctx, server.url("/")))
    finally:
        ctx.close()
    assert info.value.reason == "blocked_address"
    assert server.requests() == []


def test_discovery_does_not_follow_links_to_private_addresses(tmp_path: Path,
                                                               server: LoopbackServer) -> None:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="{u}">'
                    for u in PRIVATE)
    server.route("/", Reply(body=f"<html><head>{links}</head><body>News</body></html>"))
    ctx = _ctx(tmp_path, allow=("127.0.0.1/32",))
    try:
        found = _run(ctx, pipeline.discover_source_feeds(ctx, server.url("/")))
    finally:
        ctx.close()
    assert found == []
    assert [r.path for r in server.requests()] == ["/robots.txt", "/"]


def test_opml_import_of_private_feeds_crawls_nothing_private(tmp_path: Path,
                                                              server: LoopbackServer) -> None:
    server.route("/feed.xml", Reply(body=RSS.format(link=server.url("/a.html")),
                                    content_type="application/rss+xml"))
    outlines = "".join(f'<outline type="rss" text="f{i}" xmlUrl="{u}"/>'
                       for i, u in enumerate([server.url("/feed.xml"), *PRIVATE]))
    specs = from_opml(f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}'
                      "</body></opml>", default_country="GB")
    ctx = _ctx(tmp_path, allow=(), specs=specs)
    try:
        _run(ctx, crawl_once(ctx))
        with ctx.db.session() as s:
            feeds = list(s.scalars(select(Feed)))
    finally:
        ctx.close()
    assert len(feeds) == len(PRIVATE) + 1
    for feed in feeds:
        assert feed.last_status == "error", feed.url
        assert feed.last_error and "blocked_address" in feed.last_error, feed.last_error
    assert server.requests() == []


@pytest.mark.parametrize("url", PRIVATE)
def test_a_submitted_private_url_fails_without_a_connection(tmp_path: Path, url: str) -> None:
    ctx = _ctx(tmp_path, allow=())
    try:
        aid, _ = pipeline.add_url(ctx, url)
        res = _run(ctx, pipeline.ingest(ctx, aid))
    finally:
        ctx.close()
    assert (res.status, res.reason) == (FAILED, "blocked_address")


def test_a_submitted_url_redirecting_to_metadata_is_refused(tmp_path: Path,
                                                            server: LoopbackServer) -> None:
    server.route("/go", Reply(302, headers={"Location": PRIVATE[0]}))
    ctx = _ctx(tmp_path, allow=("127.0.0.1/32",))
    try:
        aid, _ = pipeline.add_url(ctx, server.url("/go"))
        res = _run(ctx, pipeline.ingest(ctx, aid))
    finally:
        ctx.close()
    assert (res.status, res.reason) == (FAILED, "blocked_address")
    assert [r.path for r in server.requests()] == ["/robots.txt", "/go"]
