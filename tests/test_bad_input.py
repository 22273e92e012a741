"""Bad input through the whole pipeline: a hostile publisher on a real loopback server.
Every bad feed and page ends in a clear recorded error; nothing else is lost."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from babelwire.catalog.loader import catalog_from_specs
from babelwire.catalog.model import SourceSpec
from babelwire.context import Context
from babelwire.ingest import dedup
from babelwire.ingest.crawl import crawl_once
from babelwire.store.models import FAILED, PENDING, READY, SKIPPED, Article, Feed, FetchLog
from tests.support.factories import make_settings
from tests.support.httpserver import LoopbackServer, Reply, replies

ARTICLES = {
    "ok-1": ("Council approves new tram line to the airport",
             "The city council voted on Monday to build a tram line linking the central station "
             "with the airport, ending a debate that has lasted almost a decade. The line will "
             "have eleven stops and should carry its first passengers in four years. Supporters "
             "said it would take thousands of cars off the ring road every day, while opponents "
             "questioned the cost, which the council now puts at 410 million euros. Work on the "
             "first section near the exhibition centre is due to start next spring."),
    "ok-2": ("Rare orchid found on a motorway verge",
             "A botanist walking her dog has found a colony of lady's slipper orchids growing on "
             "a grass verge beside the motorway, one of only a handful of wild sites known in "
             "the country. The plants were spotted last week and confirmed by the regional "
             "wildlife trust, which has asked the road authority to stop mowing the strip until "
             "the flowers have set seed. Volunteers will count the plants again in June and "
             "fence the spot to keep away collectors, who have raided such sites before."),
    "latin1": ("Café owners protest against the new terrace tax",
               "Dozens of café and restaurant owners gathered in front of the town hall on "
               "Friday to protest against a tax on pavement terraces that they say could force "
               "some of them to close. The levy, approved in December, charges businesses by "
               "the square metre for the space their tables occupy outdoors. Organisers said "
               "the protest was peaceful and that they had collected more than 3,000 signatures "
               "from customers who want the café terraces to stay. The mayor promised a review."),
    "wrong-charset": ("Déjà vu as the river floods the old quarter again",
                      "For the third time in five years the river has burst its banks and "
                      "flooded the cellars of the old quarter, where residents spent the night "
                      "moving furniture to upper floors. The fire brigade pumped water from "
                      "forty houses and the school was closed. Residents said they were tired "
                      "of promises: the flood wall planned after the last disaster has still "
                      "not been built, and insurance companies are refusing new policies here."),
}

NOT_ARTICLE = ("<html lang='en'><head><title>Sections</title></head><body><nav><a href='/a'>World"
               "</a> <a href='/b'>Sport</a> <a href='/c'>Culture</a></nav></body></html>")


def _page(title: str, text: str, charset_meta: bool = True) -> str:
    meta = '<meta charset="utf-8">' if charset_meta else ""
    return (f"<!doctype html><html lang='en'><head>{meta}<title>{title}</title>"
            f"<meta property='og:title' content='{title}'></head><body><nav><a href='/'>Home"
            f"</a></nav><article><h1>{title}</h1><p>{text}</p><p>{text[::-1][:0]}The story "
            f"will be updated as more information becomes available.</p></article>"
            f"<footer>Hostile Herald</footer></body></html>")


def _rss(items: list[str], base: str, *, encoding_decl: bool = True) -> str:
    decl = '<?xml version="1.0" encoding="utf-8"?>' if encoding_decl else ""
    body = "".join(f"<item><title>Item {i}</title><link>{base}{path}</link></item>"
                   for i, path in enumerate(items))
    return (f"{decl}<rss version=\"2.0\"><channel><title>Hostile Herald</title>"
            f"<link>{base}/</link>{body}</channel></rss>")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<rss version="2.0"><channel><title>&lol4;</title></channel></rss>"""

GOOD_PAGES = ["/news/ok-1.html", "/news/ok-2.html", "/news/latin1.html",
              "/news/wrong-charset.html", "/news/not-article.html", "/news/gone.html",
              "/news/big.html", "/news/escape.html", "/private/secret.html", "/news/slow.html",
              "/news/bomb.html"]


@pytest.fixture
def herald() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.start()
    base = server.base_url
    big = b"<html><body>" + b"<p>padding</p>" * 40_000 + b"</body></html>"
    bomb = gzip.compress(b"<html>" + b" " * 50_000_000)
    routes = {
        "/robots.txt": Reply(body="User-agent: *\nDisallow: /private/\n",
                             content_type="text/plain"),
        "/feeds/good.xml": Reply(body=_rss(GOOD_PAGES, base), content_type="application/rss+xml"),
        "/feeds/truncated.xml": Reply(body=_rss(["/news/ok-1.html", "/news/ok-2.html"], base)
                                      [:-40], content_type="application/rss+xml"),
        "/feeds/malformed.xml": Reply(body=b"<rss><channel><item><title>x</ti<<&&",
                                      content_type="application/rss+xml"),
        "/feeds/laughs.xml": Reply(body=BILLION_LAUGHS, content_type="application/rss+xml"),
        "/feeds/latin1.xml": Reply(
            body=_rss(["/news/latin1.html"], base, encoding_decl=False)
            .replace("Item 0", "Café terrace tax").encode("latin-1"),
            content_type="application/rss+xml"),
        "/feeds/huge.xml": Reply(body=big, content_type="application/rss+xml"),
        "/feeds/bomb.xml": Reply(body=bomb, content_type="application/rss+xml",
                                 headers={"Content-Encoding": "gzip"}),
        "/feeds/loop.xml": Reply(302, headers={"Location": "/feeds/loop2.xml"}),
        "/feeds/loop2.xml": Reply(302, headers={"Location": "/feeds/loop.xml"}),
        "/feeds/html.xml": Reply(body=NOT_ARTICLE),
        "/feeds/slow.xml": Reply(body=_rss([], base), delay=3.0,
                                 content_type="application/rss+xml"),
        "/private/feed.xml": Reply(body=_rss([], base), content_type="application/rss+xml"),
        "/feeds/ratelimited.xml": replies(
            Reply(429, headers={"Retry-After": "1"}),
            Reply(body=_rss(["/news/ok-2.html"], base), content_type="application/rss+xml")),
        "/news/ok-1.html": Reply(body=_page(*ARTICLES["ok-1"])),
        "/news/ok-2.html": Reply(body=_page(*ARTICLES["ok-2"])),
        "/news/latin1.html": Reply(body=_page(*ARTICLES["latin1"], charset_meta=False)
                                   .encode("latin-1"), content_type="text/html"),
        "/news/wrong-charset.html": Reply(
            body=_page(*ARTICLES["wrong-charset"], charset_meta=False).encode("cp1252"),
            content_type="text/html; charset=utf-8"),
        "/news/not-article.html": Reply(body=NOT_ARTICLE),
        "/news/big.html": Reply(body=big),
        "/news/bomb.html": Reply(body=bomb, headers={"Content-Encoding": "gzip"}),
        "/news/escape.html": Reply(302, headers={
            "Location": f"http://127.0.0.2:{server.port}/news/ok-1.html"}),
        "/private/secret.html": Reply(body=_page(*ARTICLES["ok-1"])),
        "/news/slow.html": Reply(body=_page(*ARTICLES["ok-2"]), delay=3.0),
    }
    for path, reply in routes.items():
        server.route(path, reply)
    yield server
    server.stop()


BAD_FEEDS = {
    "/feeds/malformed.xml": "malformed",
    "/feeds/laughs.xml": "unsafe_xml",
    "/feeds/huge.xml": "too_large",
    "/feeds/bomb.xml": "too_large",
    "/feeds/loop.xml": "redirect_loop",
    "/feeds/html.xml": "not_a_feed|bad_content_type",
    "/feeds/slow.xml": "timeout",
    "/private/feed.xml": "robots_disallowed",
}
GOOD_FEEDS = ["/feeds/good.xml", "/feeds/truncated.xml", "/feeds/latin1.xml",
              "/feeds/ratelimited.xml"]


def test_hostile_publisher(tmp_path: Path, store_url: str, herald: LoopbackServer) -> None:
    spec = SourceSpec(id="hostile-herald", name="Hostile Herald", homepage=herald.url("/"),
                      country="GB", languages=("en",),
                      feeds=tuple(herald.url(p) for p in [*GOOD_FEEDS, *BAD_FEEDS]))
    settings = make_settings(
        tmp_path, database_url=store_url, fetch_max_bytes=300_000, fetch_read_timeout=1.0,
        fetch_connect_timeout=1.0, fetch_retries=1, fetch_allow_networks=("127.0.0.1/32",),
        min_article_words=40)
    ctx = Context.open(settings, catalog=catalog_from_specs([spec]))
    try:
        stats = asyncio.run(crawl_once(ctx))
        assert not [e for e in stats.errors if "Traceback" in e]
        with ctx.db.session() as s:
            feeds = {f.url.removeprefix(herald.base_url): f for f in s.scalars(select(Feed))}
            arts = {a.url_key: a for a in s.scalars(select(Article))}
            logs = list(s.scalars(select(FetchLog)))
    finally:
        ctx.close()

    import re

    for path, reason in BAD_FEEDS.items():
        feed = feeds[path]
        assert feed.last_status == "error", (path, feed.last_status)
        assert feed.consecutive_errors == 1 and feed.next_poll_at is not None
        assert feed.last_error and re.search(reason, feed.last_error), (path, feed.last_error)
        assert "\n" not in feed.last_error
    for path in GOOD_FEEDS:
        assert feeds[path].last_status == "ok", (path, feeds[path].last_error)

    def art(path: str) -> Article:
        return arts[dedup.url_key(dedup.canonicalize_url(herald.url(path)))]

    # every entry of every readable feed has its article record: nothing silently dropped
    for path in GOOD_PAGES:
        assert art(path) is not None
    for name in ("ok-1", "ok-2", "latin1", "wrong-charset"):
        a = art(f"/news/{name}.html")
        assert a.status == READY, (name, a.status, a.error_reason, a.error_message)
        assert a.title == ARTICLES[name][0]  # accents decoded right, whatever the charset said
    expected = {
        "/news/not-article.html": (SKIPPED, "not_an_article"),
        "/news/gone.html": (FAILED, "http_status"),
        "/news/big.html": (FAILED, "too_large"),
        "/news/bomb.html": (FAILED, "too_large"),
        "/news/escape.html": (FAILED, "blocked_address"),
        "/private/secret.html": (FAILED, "robots_disallowed"),
        "/news/slow.html": (PENDING, "timeout"),  # retried on a later poll
    }
    for path, (status, reason) in expected.items():
        a = art(path)
        assert (a.status, a.error_reason) == (status, reason), (path, a.error_message)
        assert a.error_message and "\n" not in a.error_message
    # the guard refused the redirect before connecting: nothing reached 127.0.0.2
    assert all(r.client[0] == "127.0.0.1" for r in herald.requests())
    # robots.txt was obeyed: the disallowed paths were never requested
    assert not [r for r in herald.requests() if r.path.startswith("/private/")]
    # and the failures are in the fetch log with their reasons
    reasons = {entry.reason for entry in logs if entry.outcome == "error"}
    assert {"too_large", "redirect_loop", "timeout", "blocked_address",
            "robots_disallowed"} <= reasons
