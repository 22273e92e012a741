"""parse_sitemap: Google News sitemaps, plain sitemaps, indexes, gzip, hostile input."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from babelwire.ingest.feeds import FeedError, parse_feed
from babelwire.ingest.sitemaps import gunzip, parse_sitemap

DATA = Path(__file__).parent / "data" / "feeds"
URL = "https://tribune.example/sitemaps/news.xml"


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _urlset(urls: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


def test_news_sitemap() -> None:
    feed = parse_sitemap(_read("news_sitemap.xml"), url=URL)
    assert feed.kind == "news_sitemap"
    assert feed.title == "The Example Tribune"
    assert feed.language == "pt-BR"
    assert [e.url for e in feed.entries] == [
        "https://tribune.example/sport/final",
        "https://tribune.example/politics/budget-vote",
        "https://tribune.example/economy/relative-loc",  # resolved against the sitemap URL
    ]
    final, budget, relative = feed.entries
    assert final.published == datetime(2024, 5, 3, tzinfo=UTC)  # a date alone: midnight UTC
    assert budget.published == datetime(2024, 5, 2, 17, 5, tzinfo=UTC)
    assert budget.title == "Votação do orçamento é adiada"
    assert budget.image == "https://tribune.example/img/budget.jpg"
    assert budget.language == "pt-BR"
    assert relative.title == "Um endereço relativo"
    assert any("1 <url> elements without a usable" in w for w in feed.warnings)  # the ftp one


def test_parse_feed_routes_sitemaps() -> None:
    assert parse_feed(_read("news_sitemap.xml"), url=URL) == parse_sitemap(
        _read("news_sitemap.xml"), url=URL)


def test_plain_sitemap_uses_lastmod() -> None:
    feed = parse_sitemap(_read("sitemap.xml"), url="https://tribune.example/sitemap.xml")
    assert feed.kind == "sitemap"
    assert [(e.url, e.updated) for e in feed.entries] == [
        ("https://tribune.example/politics/", datetime(2024, 5, 3, 8, 0, tzinfo=UTC)),
        ("https://tribune.example/about", datetime(2023, 1, 15, tzinfo=UTC)),
        ("https://tribune.example/contact", None),
    ]
    assert all(e.published is None and e.title is None for e in feed.entries)


def test_sitemap_index_children_newest_first() -> None:
    feed = parse_feed(_read("sitemap_index.xml"), url="https://tribune.example/sitemap.xml")
    assert feed.kind == "sitemap_index"
    assert feed.entries == ()
    assert feed.child_sitemaps == (
        "https://tribune.example/sitemaps/news.xml",  # relative <loc>, newest lastmod
        "https://tribune.example/sitemaps/2024-04.xml",
        "https://tribune.example/sitemaps/2024-03.xml.gz",
        "https://tribune.example/sitemaps/static.xml",  # no lastmod: last
    )


def test_sitemap_index_is_capped() -> None:
    children = "".join(f"<sitemap><loc>https://t.example/s/{i}.xml</loc>"
                       f"<lastmod>2024-01-{i + 1:02d}</lastmod></sitemap>" for i in range(20))
    content = ('<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               f"{children}</sitemapindex>").encode()
    feed = parse_sitemap(content, url=URL, max_entries=3)
    assert feed.child_sitemaps == tuple(f"https://t.example/s/{i}.xml" for i in (19, 18, 17))
    assert feed.warnings


def test_gzip_sitemap() -> None:
    raw = _read("news_sitemap.xml")
    packed = gzip.compress(raw)
    assert packed[:2] == b"\x1f\x8b"
    assert parse_sitemap(packed, url=URL) == parse_sitemap(raw, url=URL)
    assert parse_feed(packed, url=URL).kind == "news_sitemap"


def test_gzip_bomb_is_refused() -> None:
    with pytest.raises(FeedError) as err:
        gunzip(gzip.compress(b"\0" * 100_000), max_size=10_000)
    assert err.value.reason == "too_large"


def test_corrupt_gzip_is_malformed() -> None:
    with pytest.raises(FeedError) as err:
        parse_sitemap(b"\x1f\x8b\x08\x00garbage-not-deflate" * 3, url=URL)
    assert err.value.reason == "malformed"


def test_truncated_gzip_keeps_what_inflates() -> None:
    urls = "".join(f"<url><loc>https://t.example/a/{i}</loc></url>" for i in range(2000))
    packed = gzip.compress(_urlset(urls))
    feed = parse_sitemap(packed[: len(packed) // 2], url=URL, max_entries=5000)
    assert 0 < len(feed.entries) < 2000
    assert any("malformed" in w for w in feed.warnings)


def test_truncated_xml_recovers_complete_urls() -> None:
    content = _urlset("<url><loc>https://t.example/a</loc></url>"
                      "<url><loc>https://t.example/b</loc></url>")
    cut = content[: content.index(b"/b</loc>") + 4]  # inside the second <loc>
    feed = parse_sitemap(cut, url=URL)
    assert "https://t.example/a" in {e.url for e in feed.entries}
    assert feed.warnings


def test_max_entries_and_dedupe() -> None:
    urls = "".join(f"<url><loc>https://t.example/a/{i % 300}</loc>"
                   f"<lastmod>2024-01-01T00:{i % 60:02d}:00Z</lastmod></url>" for i in range(600))
    feed = parse_sitemap(_urlset(urls), url=URL, max_entries=100)
    assert len(feed.entries) == 100
    assert len({e.url for e in feed.entries}) == 100


def test_future_lastmod_is_dropped() -> None:
    feed = parse_sitemap(_urlset("<url><loc>https://t.example/a</loc>"
                                 "<lastmod>2999-01-01</lastmod></url>"), url=URL)
    assert feed.entries[0].updated is None
    assert any("future" in w for w in feed.warnings)


def test_not_a_sitemap() -> None:
    with pytest.raises(FeedError) as err:
        parse_sitemap(_read("rss20.xml"), url=URL)
    assert err.value.reason == "not_a_feed"


def test_empty_sitemap_content() -> None:
    with pytest.raises(FeedError) as err:
        parse_sitemap(b"", url=URL)
    assert err.value.reason == "empty"


@pytest.mark.parametrize("entity", [
    '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">',
    '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
])
def test_entities_are_refused(entity: str) -> None:
    content = (f'<?xml version="1.0"?><!DOCTYPE urlset [{entity}]>'
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               "<url><loc>https://t.example/&b;&xxe;</loc></url></urlset>").encode()
    with pytest.raises(FeedError) as err:
        parse_sitemap(content, url=URL)
    assert err.value.reason == "unsafe_xml"
    packed = gzip.compress(content)
    with pytest.raises(FeedError) as err:
        parse_feed(packed, url=URL)
    assert err.value.reason == "unsafe_xml"
