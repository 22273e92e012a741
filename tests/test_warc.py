"""WARC in and out: records run through the same pipeline; a summary that adds up."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.warc import WarcError, export_warc, import_warc
from babelwire.store.models import READY, Article
from tests.support.factories import make_settings

UNKNOWN_URL = "https://unknown-gazette.example/2026/11/harbour-reopens.html"
UNKNOWN_PAGE = """<!doctype html><html lang="en"><head><title>Harbour reopens after storm</title>
<meta property="og:title" content="Harbour reopens after storm"></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Harbour reopens after storm</h1>
<p>The old harbour of the town reopened on Thursday morning, four days after the storm that
tore two fishing boats from their moorings and flooded the market square along the quay.</p>
<p>Harbour master Elena Varga said divers had checked the channel overnight and found it clear
of debris, although the northern pier will stay closed until engineers inspect its pillars.</p>
<p>Fishermen who had waited at home since the weekend were back at sea before dawn. Several said
the catch would be small this week but that the reopening mattered more than the numbers.</p>
</article><footer>© Unknown Gazette</footer></body></html>"""


def _record(writer: WARCWriter, url: str, body: bytes, *, status: str = "200 OK",
            ctype: str = "text/html; charset=utf-8") -> None:
    http = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                  length=len(body), http_headers=http))


def _build_warc(path: Path, newsroom: Any) -> int:
    articles = [a for a in newsroom.articles() if not a.wire_of][:6]
    with httpx.Client() as client, path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record("test.warc.gz", {"software": "t"}))
        for a in articles:
            _record(writer, a.url, client.get(a.url).content)
        _record(writer, articles[0].url, client.get(articles[0].url).content)  # same URL again
        _record(writer, UNKNOWN_URL, UNKNOWN_PAGE.encode())
        _record(writer, "https://unknown-gazette.example/logo.png", b"\x89PNG....",
                ctype="image/png")
        _record(writer, "https://unknown-gazette.example/gone", b"gone", status="404 Not Found")
    return len(articles)


@pytest.fixture
def ctx(tmp_path: Path, store_url: str, newsroom: Any) -> Any:
    c = Context.open(make_settings(tmp_path, database_url=store_url),
                     catalog=catalog_from_specs(newsroom.sources()))
    yield c
    c.close()


def test_import_warc_summary_and_unknown_domains(ctx: Context, tmp_path: Path,
                                                  newsroom: Any) -> None:
    warc = tmp_path / "news.warc.gz"
    n = _build_warc(warc, newsroom)
    summary = asyncio.run(import_warc(ctx, [warc]))
    assert summary.records == n + 4
    assert summary.stored == n + 1
    assert summary.duplicates == 1
    assert dict(summary.skipped) == {"not_html": 1, "http_status": 1}
    assert summary.records == summary.stored + summary.duplicates + sum(summary.skipped.values())
    with ctx.db.session() as s:
        unknown = s.scalar(select(Article).where(Article.url == UNKNOWN_URL))
        assert unknown is not None and unknown.status == READY
        assert unknown.country is None and unknown.source_id is None
        assert unknown.language == "en"
    # importing the same archive again stores nothing new
    again = asyncio.run(import_warc(ctx, [warc]))
    assert again.stored == 0 and again.duplicates == n + 2


def test_export_then_import_round_trip(ctx: Context, tmp_path: Path, newsroom: Any,
                                       store_url: str) -> None:
    warc = tmp_path / "in.warc.gz"
    n = _build_warc(warc, newsroom)
    asyncio.run(import_warc(ctx, [warc]))
    out = tmp_path / "out.warc.gz"
    with out.open("wb") as fh:
        written = export_warc(ctx, fh)
    assert written == n + 1  # every stored page, once
    fresh = Context.open(make_settings(tmp_path / "fresh"),
                         catalog=catalog_from_specs(newsroom.sources()))
    try:
        summary = asyncio.run(import_warc(fresh, [out]))
        assert summary.stored == n + 1 and summary.records == n + 1
        with ctx.db.session() as s1, fresh.db.session() as s2:
            titles1 = sorted(a.title or "" for a in s1.scalars(select(Article)
                                                              .where(Article.status == READY)))
            titles2 = sorted(a.title or "" for a in s2.scalars(select(Article)
                                                              .where(Article.status == READY)))
        assert titles1 == titles2
    finally:
        fresh.close()


def test_not_a_warc_is_a_clear_error(ctx: Context, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.warc"
    bogus.write_bytes(b"this is not a warc file\n" * 10)
    with pytest.raises(WarcError, match=r"bogus\.warc"):
        asyncio.run(import_warc(ctx, [bogus]))
    gz = tmp_path / "page.html.gz"
    gz.write_bytes(__import__("gzip").compress(b"<html>not an archive</html>"))
    with pytest.raises(WarcError, match="not a WARC file"):
        asyncio.run(import_warc(ctx, [gz]))
    with pytest.raises(WarcError, match=r"missing\.warc"):
        asyncio.run(import_warc(ctx, [tmp_path / "missing.warc"]))
