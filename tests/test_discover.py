"""discover_feeds and guess_feed_urls."""

from __future__ import annotations

from pathlib import Path

from babelwire.ingest.discover import discover_feeds, guess_feed_urls

DATA = Path(__file__).parent / "data" / "feeds"


def test_alternate_links_in_page_order_with_base_href() -> None:
    html = (DATA / "homepage.html").read_text(encoding="utf-8")
    assert discover_feeds(html, "https://herald.example/index.html") == [
        "https://herald.example/edition/rss/top.xml",  # relative to <base href="/edition/">
        "https://herald.example/atom/world.xml",
        "https://cdn.herald.example/feed.json",
        # the "#dup" repeat, the hreflang link without a type, /wp-json/, oEmbed: left out
        "https://feeds.herald.example/sport",  # rel="ALTERNATE feed", type with parameters
        # javascript: left out
        "https://herald.example/feeds/latest.json",  # a <link> in <body> counts too
    ]


def test_relative_hrefs_without_base() -> None:
    html = ('<html><head><link rel="alternate" type="application/atom+xml" href="atom.xml">'
            '<link rel=alternate type=application/rss+xml href="../rss">'
            "</head><body></body></html>")
    assert discover_feeds(html, "https://site.example/news/today/") == [
        "https://site.example/news/today/atom.xml",
        "https://site.example/news/rss",
    ]


def test_page_without_feeds() -> None:
    html = ('<html><head><link rel="stylesheet" href="/s.css">'
            '<link rel="alternate" hreflang="de" href="/de/"></head>'
            '<body><a href="/feed">feed</a></body></html>')
    assert discover_feeds(html, "https://site.example/") == []


def test_broken_html_does_not_raise() -> None:
    html = '<link rel="alternate" type="application/rss+xml" href="/rss.xml"<<div><p unclosed'
    assert discover_feeds(html, "https://site.example/a") in (
        [], ["https://site.example/rss.xml"])


def test_guess_feed_urls_from_site_root() -> None:
    assert guess_feed_urls("https://Site.example:8443/news/page?x=1#top") == [
        f"https://Site.example:8443{path}"
        for path in ("/feed", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml")
    ]
    assert guess_feed_urls("ftp://site.example/") == []
    assert guess_feed_urls("not a url") == []
