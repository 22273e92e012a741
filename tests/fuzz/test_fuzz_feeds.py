"""Fuzzing the feed and sitemap parsers: mutated real-shaped feeds (tests/data/feeds) and
generated RSS, Atom, JSON Feed and sitemaps. Only FeedError may come out; what comes out
is newest first, deduplicated, capped, with absolute http(s) URLs and UTC dates."""

from __future__ import annotations

import contextlib
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from hypothesis import example, given
from hypothesis import strategies as st

from babelwire.ingest.feeds import FeedError, ParsedFeed, parse_feed
from babelwire.ingest.sitemaps import parse_sitemap

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "feeds"
SEEDS = {p.name: p.read_bytes() for p in sorted(FIXTURES.iterdir()) if p.is_file()}
FEED_URL = "https://example.com/feeds/news.xml"
MAX = 25


def _check(feed: ParsedFeed, max_entries: int) -> None:
    assert len(feed.entries) <= max_entries
    urls = [e.url for e in feed.entries]
    assert len(set(urls)) == len(urls)
    for e in feed.entries:
        assert e.url.startswith(("http://", "https://")), e.url
        for when in (e.published, e.updated):
            assert when is None or when.utcoffset() == timedelta(0)
    dated = [e.published or e.updated for e in feed.entries]
    seen_undated = False
    for when in dated:  # newest first, undated last
        seen_undated = seen_undated or when is None
        assert when is None or not seen_undated
    stamps = [d for d in dated if d is not None]
    assert stamps == sorted(stamps, reverse=True)
    for child in feed.child_sitemaps:
        assert child.startswith(("http://", "https://"))


def _parse(content: bytes, content_type: str | None = None,
           max_entries: int = MAX) -> ParsedFeed | None:
    try:
        feed = parse_feed(content, url=FEED_URL, content_type=content_type,
                          max_entries=max_entries)
    except FeedError as exc:
        assert exc.reason in {"empty", "malformed", "not_a_feed", "unsafe_xml", "too_large"}
        return None
    _check(feed, max_entries)
    return feed


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete", "dup"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.one_of(st.binary(max_size=20), st.sampled_from([
                b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"<![CDATA[", b"]]>", b"&#0;", b"&bogus;",
                b"<item>", b"</channel>", b"\xff\xfe", b"\x1f\x8b", b"<?xml encoding='x'?>",
                b'{"version": "https://jsonfeed.org/version/1.1", "items": 5}'])))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 50))]
        elif op == "dup":
            data[pos:pos] = data[pos:pos + draw(st.integers(1, 200))]
    return bytes(data)


_ATOM = SEEDS["atom.xml"]


@given(mutated(), st.sampled_from([None, "application/rss+xml; charset=latin1",
                                   "application/json", "text/html", "text/xml; charset=x"]),
       st.integers(0, 30))
@example(_ATOM.replace(b'encoding="utf-8"', b'encoding="\x80tf-8"'), None, 5)  # found by
@example(_ATOM.replace(b'encoding="utf-8"', b'encoding="\x00tf-8"'), None, 5)  # fuzzing
def test_mutated_feeds_parse_or_raise_feed_error(content: bytes, ctype: str | None,
                                                 max_entries: int) -> None:
    _parse(content, ctype, max_entries)


def test_a_garbled_encoding_declaration_is_a_feed_error() -> None:
    # found by fuzzing: feedparser raised UnicodeDecodeError / ValueError out of parse_feed
    assert b'encoding="utf-8"' in _ATOM
    for label in (b"\x80tf-8", b"\x00tf-8"):
        try:
            parse_feed(_ATOM.replace(b'encoding="utf-8"', b'encoding="' + label + b'"'),
                       url=FEED_URL)
        except FeedError as exc:
            assert exc.reason == "malformed"


@given(st.binary(max_size=400))
@example(b"\x1f\x8b\x08\x00" + b"\x00" * 20)  # a gzip header and nothing after it
@example(gzip.compress(b"<urlset>" + b"<url><loc>https://a.b/x</loc></url>" * 3))
@example(b"[]")
@example(b'{"version": "https://jsonfeed.org/version/1", "items": [null, 1, "x", []]}')
def test_any_bytes_parse_or_raise_feed_error(content: bytes) -> None:
    _parse(content)
    with contextlib.suppress(FeedError):
        parse_sitemap(content, url=FEED_URL)


# Generated feeds: every item with a fresh http(s) link must come back (up to the cap).
_xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)
_when = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1),
                     timezones=st.just(UTC))
_item = st.tuples(_xml_text, st.one_of(st.none(), _when), _xml_text)


def _links(n: int) -> list[str]:
    return [f"https://example.com/news/{i}-story.html?id={i}" for i in range(n)]


def _rss(items: list[tuple[str, datetime | None, str]]) -> bytes:
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{link}</link>"
        + (f"<pubDate>{d.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>" if d else "")
        + f"<description>{escape(s)}</description></item>"
        for (t, d, s), link in zip(items, _links(len(items)), strict=True))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>News</title><link>https://example.com/</link>{body}</channel></rss>"
            ).encode()


def _atom(items: list[tuple[str, datetime | None, str]]) -> bytes:
    body = "".join(
        f"<entry><title>{escape(t)}</title><link href={quoteattr(link)}/><id>{link}</id>"
        + (f"<updated>{d.isoformat()}</updated>" if d else "")
        + f"<summary>{escape(s)}</summary></entry>"
        for (t, d, s), link in zip(items, _links(len(items)), strict=True))
    return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>News</title>{body}</feed>").encode()


def _json_feed(items: list[tuple[str, datetime | None, str]]) -> bytes:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "News",
                       "items": [{"id": link, "url": link, "title": t,
                                  "content_text": s,
                                  **({"date_published": d.isoformat()} if d else {})}
                                 for (t, d, s), link in zip(items, _links(len(items)),
                                                            strict=True)]}).encode()


def _sitemap(items: list[tuple[str, datetime | None, str]]) -> bytes:
    body = "".join(
        f"<url><loc>{escape(link)}</loc>"
        + (f"<lastmod>{d.isoformat()}</lastmod>" if d else "") + "</url>"
        for (_t, d, _s), link in zip(items, _links(len(items)), strict=True))
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'
            ).encode()


@given(st.sampled_from([_rss, _atom, _json_feed, _sitemap]), st.lists(_item, max_size=40),
       st.booleans())
def test_generated_feeds_keep_every_item(build: object, items: list[tuple[str, datetime | None,
                                                                          str]],
                                         gzipped: bool) -> None:
    content = build(items)  # type: ignore[operator]
    if gzipped:
        content = gzip.compress(content)
    feed = _parse(content)
    assert feed is not None
    assert len(feed.entries) == min(len(items), MAX)
    assert {e.url for e in feed.entries} <= set(_links(len(items)))
