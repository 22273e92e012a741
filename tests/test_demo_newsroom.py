"""The demo newsroom: fictional sites served on loopback, with feeds, sitemaps and ground truth."""

from __future__ import annotations

import calendar
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from urllib.robotparser import RobotFileParser

import feedparser
import httpx
import pytest
import trafilatura
from defusedxml import ElementTree

from babelwire.demo.newsroom import DemoArticle, DemoNewsroom
from babelwire.demo.publishers import load_publishers

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NEWS_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
           "news": "http://www.google.com/schemas/sitemap-news/0.9"}


@pytest.fixture(scope="module")
def newsroom() -> Iterator[DemoNewsroom]:
    with DemoNewsroom(now=NOW) as room:
        yield room


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as http:
        yield http


class _Page(HTMLParser):
    """Visible text, <html lang>, canonical link and meta tags of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.lang: str | None = None
        self.canonical: str | None = None
        self.meta: dict[str, str] = {}
        self.alternates: list[tuple[str, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        elif tag == "link" and a.get("rel") == "alternate":
            self.alternates.append((a.get("type", ""), a.get("href", "")))
        elif tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)

    @property
    def plain(self) -> str:
        return _norm(" ".join(self.text))


def _norm(text: str) -> str:
    return " ".join(text.split())


def _page(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    return parser


def test_counts_languages_countries(newsroom: DemoNewsroom) -> None:
    articles = newsroom.articles()
    assert 55 <= len(articles) <= 65
    assert len({a.url for a in articles}) == len(articles)
    languages = {a.language for a in articles}
    assert {"en", "es", "fr", "pt", "ru", "uk", "ca"} <= languages
    assert len({a.country for a in articles}) >= 7
    assert 8 <= len(newsroom.sources()) <= 10
    catalan = {a.country for a in articles if a.language == "ca"}
    assert catalan == {"ES"}
    for article in articles:
        assert 5 <= len(article.paragraphs) <= 10, article.url
        assert article.title and article.author
        assert all(p.strip() for p in article.paragraphs)


def test_stories_across_languages_and_wire_copy(newsroom: DemoNewsroom) -> None:
    articles = newsroom.articles()
    by_story: dict[str, list[DemoArticle]] = defaultdict(list)
    for article in articles:
        if article.story:
            by_story[article.story].append(article)
    multilingual = [
        key for key, group in by_story.items()
        if len({a.language for a in group}) > 1 and len({a.site for a in group}) > 1
    ]
    assert len(multilingual) >= 6
    assert any(a.story is None for a in articles)

    by_url = {a.url: a for a in articles}
    copies = [a for a in articles if a.wire_of]
    assert copies
    for copy in copies:
        original = by_url[copy.wire_of or ""]
        assert original.site != copy.site
        assert original.language == copy.language
        assert original.paragraphs == copy.paragraphs
        assert original.published < copy.published


def test_dates_follow_now() -> None:
    later = NOW + timedelta(days=3)
    with DemoNewsroom(now=NOW) as first, DemoNewsroom(now=later) as second:
        a = {article.url.split("/", 3)[3]: article.published for article in first.articles()}
        b = {article.url.split("/", 3)[3]: article.published for article in second.articles()}
    assert a.keys() == b.keys()
    for path, published in a.items():
        assert published.tzinfo is not None
        assert NOW - timedelta(days=4) < published <= NOW
        assert b[path] - published == timedelta(days=3)


def test_base_url_needs_start_when_port_is_free() -> None:
    room = DemoNewsroom()
    with pytest.raises(RuntimeError):
        _ = room.base_url
    assert DemoNewsroom(port=8471).base_url == "http://127.0.0.1:8471"


def test_robots_txt(newsroom: DemoNewsroom, client: httpx.Client) -> None:
    response = client.get(f"{newsroom.base_url}/robots.txt")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    robots = RobotFileParser()
    robots.parse(response.text.splitlines())
    assert robots.crawl_delay("babelwire") is None
    private = [p for p in load_publishers() if p.private_path]
    assert len(private) == 1
    forbidden = f"{newsroom.base_url}/{private[0].id}/private/{private[0].private_path}"
    assert not robots.can_fetch("babelwire", forbidden)
    assert client.get(forbidden).status_code == 200  # served, but robots forbid it
    for article in newsroom.articles():
        assert robots.can_fetch("babelwire", article.url)
    for source in newsroom.sources():
        for feed in source.feeds:
            assert robots.can_fetch("babelwire", feed)


def test_sources(newsroom: DemoNewsroom, client: httpx.Client) -> None:
    sources = newsroom.sources()
    articles = newsroom.articles()
    assert len({s.id for s in sources}) == len(sources)
    assert {s.policy for s in sources} == {"full_text", "excerpt"}
    assert any(s.sitemaps for s in sources)
    for source in sources:
        assert source.homepage == f"{newsroom.base_url}/{source.id}/"
        assert source.country == source.country.upper() and len(source.country) == 2
        own = [a for a in articles if a.site == source.id]
        assert own
        assert {a.language for a in own} == set(source.languages)
        assert {a.country for a in own} == {source.country}
        home = client.get(source.homepage)
        assert home.status_code == 200
        page = _page(home.text)
        assert (page.alternates and page.alternates[0][1] == source.feeds[0])
        for article in own:
            assert article.url in home.text
        assert source.logo is not None
        logo = client.get(source.logo)
        assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"


def test_feeds_list_every_article(newsroom: DemoNewsroom, client: httpx.Client) -> None:
    articles = {a.url: a for a in newsroom.articles()}
    formats = set()
    seen: set[str] = set()
    for source in newsroom.sources():
        assert len(source.feeds) == 1
        response = client.get(source.feeds[0])
        assert response.status_code == 200
        content_type = response.headers["content-type"]
        assert "charset=utf-8" in content_type
        if "json" in content_type:
            formats.add("json")
            doc = json.loads(response.text)
            assert doc["version"] == "https://jsonfeed.org/version/1.1"
            entries = [(i["url"], i["title"], i["summary"],
                        datetime.fromisoformat(i["date_published"])) for i in doc["items"]]
        else:
            parsed = feedparser.parse(response.content)
            assert not parsed.bozo, parsed.get("bozo_exception")
            formats.add(parsed.version[:3])
            entries = [(e.link, e.title, e.summary,
                        datetime.fromtimestamp(calendar.timegm(e.published_parsed), UTC))
                       for e in parsed.entries]
        own = {url for url, a in articles.items() if a.site == source.id}
        assert {url for url, *_ in entries} == own
        for url, title, summary, published in entries:
            assert title == articles[url].title
            assert summary
            assert published == articles[url].published
            assert client.get(url).status_code == 200
            seen.add(url)
    assert formats == {"rss", "ato", "json"}
    assert seen == set(articles)


def test_news_sitemap(newsroom: DemoNewsroom, client: httpx.Client) -> None:
    articles = {a.url: a for a in newsroom.articles()}
    sources = [s for s in newsroom.sources() if s.sitemaps]
    assert sources
    for source in sources:
        response = client.get(source.sitemaps[0])
        assert response.status_code == 200
        root = ElementTree.fromstring(response.content)
        urls = root.findall("sm:url", NEWS_NS)
        assert {u.findtext("sm:loc", namespaces=NEWS_NS) for u in urls} == {
            url for url, a in articles.items() if a.site == source.id}
        for url in urls:
            loc = url.findtext("sm:loc", namespaces=NEWS_NS) or ""
            news = url.find("news:news", NEWS_NS)
            assert news is not None
            assert news.findtext("news:title", namespaces=NEWS_NS) == articles[loc].title
            date = news.findtext("news:publication_date", namespaces=NEWS_NS) or ""
            assert datetime.fromisoformat(date) == articles[loc].published
            language = news.findtext("news:publication/news:language", namespaces=NEWS_NS)
            assert language == articles[loc].language


def test_article_pages_hold_text_metadata_and_appeals(newsroom: DemoNewsroom,
                                                      client: httpx.Client) -> None:
    appeals = newsroom.appeals()
    assert len(appeals) >= 2
    pages_with: dict[str, int] = defaultdict(int)
    for article in newsroom.articles():
        response = client.get(article.url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        page = _page(response.text)
        assert page.lang == article.language
        assert page.canonical == article.url
        assert page.meta["og:title"] == article.title
        assert page.meta["og:type"] == "article"
        assert page.meta["og:site_name"]
        assert page.meta["og:locale"].startswith(article.language)
        assert page.meta["author"] == article.author
        published = datetime.fromisoformat(page.meta["article:published_time"])
        assert published == article.published
        assert "<article" in response.text
        text = page.plain
        assert _norm(article.title) in text
        for paragraph in article.paragraphs:
            assert _norm(paragraph) in text, (article.url, paragraph[:60])
        site_appeals = appeals.get(article.site, [])
        found = [t for t in site_appeals if _norm(t) in text]
        if site_appeals:
            assert found, article.url
            assert not set(found) & set(article.paragraphs)
        for appeal in found:
            pages_with[appeal] += 1
    for site, texts in appeals.items():
        for appeal in texts:
            assert pages_with[appeal] >= 2, (site, appeal)  # recurring, not one-off


def test_json_ld_on_some_sites(newsroom: DemoNewsroom, client: httpx.Client) -> None:
    with_ld = 0
    for source in newsroom.sources():
        article = next(a for a in newsroom.articles() if a.site == source.id)
        html = client.get(article.url).text
        if "application/ld+json" not in html:
            continue
        with_ld += 1
        block = html.split('<script type="application/ld+json">', 1)[1].split("</script>")[0]
        doc = json.loads(block)
        assert doc["@type"] == "NewsArticle"
        assert doc["headline"] == article.title
        assert datetime.fromisoformat(doc["datePublished"]) == article.published
    assert 0 < with_ld < len(newsroom.sources())


def test_trafilatura_extracts_articles_without_chrome(newsroom: DemoNewsroom,
                                                      client: httpx.Client) -> None:
    cookie_texts = [_norm(s) for s in ("We use cookies", "Utilizamos cookies",
                                       "Nous utilisons des cookies", "Мы используем файлы")]
    by_site: dict[str, DemoArticle] = {}
    for article in newsroom.articles():
        by_site.setdefault(article.site, article)
    for article in by_site.values():
        html = client.get(article.url).text
        extracted = _norm(trafilatura.extract(html) or "")
        kept = [p for p in article.paragraphs if _norm(p) in extracted]
        assert len(kept) >= 0.8 * len(article.paragraphs), article.url
        assert not any(c in extracted for c in cookie_texts), article.url
        appeals = newsroom.appeals().get(article.site, [])
        if appeals:  # the appeal sits inside the body: extraction alone keeps it
            assert any(_norm(t) in extracted for t in appeals), article.url


def test_conditional_get(newsroom: DemoNewsroom, client: httpx.Client) -> None:
    source = newsroom.sources()[0]
    first = client.get(source.feeds[0])
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert parsedate_to_datetime(modified) <= NOW
    by_etag = client.get(source.feeds[0], headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.content == b""
    by_date = client.get(source.feeds[0], headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    older = parsedate_to_datetime(modified) - timedelta(hours=1)
    stale = client.get(source.feeds[0], headers={
        "If-Modified-Since": older.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    assert stale.status_code == 200 and stale.content == first.content
    other = client.get(source.feeds[0], headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200
    article = newsroom.articles()[0]
    page = client.get(article.url)
    again = client.get(article.url, headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304


def test_non_article_pages_and_missing(newsroom: DemoNewsroom, client: httpx.Client) -> None:
    urls = {a.url for a in newsroom.articles()}
    source = newsroom.sources()[0]
    about = f"{source.homepage}about.html"
    assert about not in urls
    response = client.get(about)
    assert response.status_code == 200
    assert "<article" not in response.text
    assert _page(response.text).meta["og:type"] == "website"
    section = next(a for a in newsroom.articles() if a.site == source.id).url.rsplit("/", 1)[0]
    assert client.get(f"{section}/").status_code == 200
    assert client.get(f"{newsroom.base_url}/no-such-site/").status_code == 404
    assert client.get(f"{source.homepage}news/no-such-article.html").status_code == 404
    redirect = client.get(source.homepage.rstrip("/"))
    assert redirect.status_code == 301
