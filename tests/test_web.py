"""Every route of the reader's site, in process (httpx over ASGI), over the demo newsroom
crawled and translated with real Apertium once for the module."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import feedparser
import httpx
import pytest
from sqlalchemy import select, update

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.crawl import crawl_once
from babelwire.store.models import READY, Article, Source
from babelwire.translate import apertium
from babelwire.web.app import create_app
from tests.support.factories import make_settings

pytestmark = pytest.mark.skipif(not apertium.available(), reason="Apertium is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, newsroom: Any) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("web")
    settings = make_settings(tmp, translate=True, engines=("apertium",),
                             translate_eager_languages=("en",))
    ctx = Context.open(settings, catalog=catalog_from_specs(newsroom.sources()))
    asyncio.run(crawl_once(ctx))
    app = create_app(ctx)
    yield {"ctx": ctx, "app": app}
    ctx.close()


def get(site: dict[str, Any], url: str, **kw: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=site["app"])
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            resp = await c.get(url, **kw)
            await site["app"].state.ondemand.drain()
            return resp

    return asyncio.run(go())


def article_in(site: dict[str, Any], source: str) -> Article:
    with site["ctx"].db.session() as s:
        art = s.scalar(select(Article).where(Article.source_id == source,
                                             Article.status == READY).order_by(Article.id))
    assert art is not None
    return art


def news_list(html: str) -> str:
    found = re.search(r'<ol class="news" data-testid="all-news">.*?</ol>', html, re.S)
    assert found is not None
    return found.group(0)


def follow(site: dict[str, Any], url: str) -> httpx.Response:
    resp = get(site, url)
    while resp.status_code in (301, 302, 303):
        resp = get(site, resp.headers["location"])
    return resp


def test_root_redirects_by_cookie_then_accept_language(site: dict[str, Any]) -> None:
    r = get(site, "/", headers={"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"})
    assert r.status_code == 302 and r.headers["location"] == "/uk/"
    r = get(site, "/", headers={"Accept-Language": "ja"})
    assert r.headers["location"] == "/en/"
    r = get(site, "/", headers={"Accept-Language": "uk", "Cookie": "lang=pl"})
    assert r.headers["location"] == "/pl/"


def test_front_page_in_a_reader_language(site: dict[str, Any]) -> None:
    r = get(site, "/de/")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="de"' in html
    assert 'data-testid="language-select"' in html and 'data-testid="country-select"' in html
    assert "Sprache wählen" in html and "Land wählen" in html  # German UI labels
    assert 'data-testid="news-item"' in html
    assert "Russland" in html  # country names in German
    assert get(site, "/xx/").status_code == 404
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"


def test_country_page_lists_only_that_country(site: dict[str, Any]) -> None:
    r = get(site, "/en/UA/")
    assert r.status_code == 200
    items = re.findall(r'data-testid="news-item".*?</li>', r.text, re.S)
    assert items and all("Ukraine" in it for it in items)
    assert get(site, "/en/ZZ/").status_code == 404
    assert get(site, "/en/UA/feed.atom").status_code == 200


def test_all_news_paginates_newest_first(site: dict[str, Any]) -> None:
    r = get(site, "/en/all")
    times = re.findall(r'<time datetime="([^"]+)"', r.text)
    assert len(times) == 30 and times == sorted(times, reverse=True)
    nxt = re.search(r'rel="next" href="([^"]+)"', r.text)
    assert nxt is not None
    page2 = get(site, "/en/all" + nxt.group(1).replace("&amp;", "&"))
    times2 = re.findall(r'<time datetime="([^"]+)"', page2.text)
    assert times2 and max(times2) <= min(times)
    r = get(site, "/en/all?source=gaseta-del-ter")
    assert r.text.count('data-testid="news-item"') >= 3
    listing = news_list(r.text)
    assert "Gaseta del Ter" in listing and "Neva Courier" not in listing
    r = get(site, "/en/all?original=uk")
    assert r.text.count('data-testid="news-item"') >= 3


def test_translated_article_page(site: dict[str, Any]) -> None:
    art = article_in(site, "cronica-del-tajo")  # Spanish, translated into English at ingest
    r = get(site, f"/en/a/{art.id}")
    assert r.status_code == 301 and r.headers["location"].startswith(f"/en/a/{art.id}-")
    page = get(site, r.headers["location"])
    html = page.text
    assert page.status_code == 200
    assert 'data-testid="article-body" lang="en"' in html
    notice = re.search(r'data-testid="mt-notice".*?</div>', html, re.S)
    assert notice and "Machine-translated from Spanish by Apertium." in notice.group(0)
    assert f'data-testid="original-link" href="{art.url}"' in html
    assert 'rel="canonical"' in html and 'hreflang="uk"' in html
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                              re.S).group(1))  # type: ignore[union-attr]
    assert ld["@type"] == "NewsArticle" and ld["isBasedOn"] == art.url
    similar = re.search(r'data-testid="similar-news".*?</ol>', html, re.S)
    assert similar is not None and similar.group(0).count('data-testid="similar-item"') >= 5

    # the original and the side-by-side views
    original = get(site, page.url.path + "?view=original").text
    assert 'data-testid="article-body" lang="es"' in original
    bilingual = get(site, page.url.path + "?view=bilingual").text
    with site["ctx"].db.session() as s:
        first = s.get(Article, art.id).blocks[0].text
    assert 'class="side original" lang="es"' in bilingual
    assert first.split()[0] in bilingual


def test_article_without_route_and_translated_on_first_visit(site: dict[str, Any]) -> None:
    art = article_in(site, "cronica-del-tajo")
    page = follow(site, f"/de/a/{art.id}")  # no engine translates es→de here
    assert "Spanisch" in page.text and 'data-testid="mt-notice"' in page.text
    assert 'data-testid="article-body" lang="es"' in page.text
    # es→fr exists but French is not eager: translated in the request, on the first visit
    # (tests/test_web_first_visit.py tests the budget, the bounds and the background case)
    first = follow(site, f"/fr/a/{art.id}")
    assert 'class="mt-notice pending"' not in first.text
    assert 'data-testid="article-body" lang="fr"' in first.text


def test_excerpt_publishers_show_only_the_lead(site: dict[str, Any]) -> None:
    art = article_in(site, "el-mirador-austral")
    page = follow(site, f"/es/a/{art.id}")
    body = re.search(r'data-testid="article-body".*?</div>', page.text, re.S)
    assert body is not None
    with site["ctx"].db.session() as s:
        blocks = s.get(Article, art.id).blocks
    assert body.group(0).count("<p") < len(blocks)
    assert blocks[-1].text not in page.text
    assert 'class="excerpt-note"' in page.text


def test_text_from_pages_is_escaped(site: dict[str, Any]) -> None:
    art = article_in(site, "harbour-gazette")
    with site["ctx"].db.session() as s:
        s.execute(update(Article).where(Article.id == art.id)
                  .values(title="<script>alert(1)</script> Harbour"))
    page = follow(site, f"/en/a/{art.id}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_search(site: dict[str, Any]) -> None:
    art = article_in(site, "harbour-gazette")
    word = max((w for w in re.findall(r"\w+", art.title or "") if len(w) > 4), key=len)
    r = get(site, f"/en/search?q={word}")
    assert 'data-testid="search-results"' in r.text
    assert f"/en/a/{art.id}-" in r.text
    long = get(site, "/en/search?q=" + "x" * 5000)
    assert long.status_code == 400 and 'data-testid="search-error"' in long.text
    assert get(site, "/en/search").status_code == 200


def _body_word(site: dict[str, Any], art: Article) -> str:
    """A word of the article's body that is not in its title or summary."""
    from babelwire.store.models import Block

    with site["ctx"].db.session() as s:
        body = " ".join(s.scalars(select(Block.text).where(Block.article_id == art.id,
                                                           Block.role == "text")))
    head = set(re.findall(r"\w+", f"{art.title} {art.description}".lower()))
    return max((w for w in re.findall(r"[^\W\d_]+", body) if len(w) > 5
                and w.lower() not in head), key=len)


def test_search_reads_whole_texts_in_html_and_json(site: dict[str, Any]) -> None:
    art = article_in(site, "harbour-gazette")
    word = _body_word(site, art)
    html = get(site, f"/{art.language}/search?q={word}").text
    assert f"/{art.language}/a/{art.id}-" in html
    assert re.search(r'data-testid="snippet".*?<mark>', html, re.S)
    api = get(site, f"/api/v1/search?q={word}&lang={art.language}").json()
    hit = next(i for i in api["items"] if i["id"] == art.id)
    start, end = hit["snippet"]["marks"][0]
    assert hit["snippet"]["text"][start:end].lower() == word.lower()
    assert hit["matched_original"] is True
    other = get(site, f"/api/v1/search?q={word}&lang={art.language}&country=ZZ").json()
    assert other["items"] == []


def test_search_never_fails_on_hostile_queries(site: dict[str, Any]) -> None:
    for q in ['"', "a OR b", "NEAR(a b)", "title:x", "x*", "-x", "(x", "%", "_", "\\",
              "'; DROP TABLE articles; --", '"unclosed', "🙂", "x" * 300, "%00", "&&", "<->"]:
        for url in (f"/en/search?q={quote(q)}", f"/api/v1/search?lang=en&q={quote(q)}"):
            r = get(site, url)
            assert r.status_code in (200, 400), (url, r.status_code)
            if r.status_code == 400 and url.startswith("/api"):
                assert r.json()["detail"]
    assert get(site, "/api/v1/search?q=a&lang=en&since=yesterday").status_code == 400
    assert get(site, "/api/v1/search?q=a&lang=en&cursor=bogus").status_code == 400


def test_search_pages_with_a_cursor(site: dict[str, Any]) -> None:
    seen: list[int] = []
    url = "/api/v1/search?q=the&lang=en&limit=2"
    while url and len(seen) < 40:
        page = get(site, url).json()
        seen += [i["id"] for i in page["items"]]
        url = f"/api/v1/search?q=the&lang=en&limit=2&cursor={page['next']}" \
            if page["next"] else ""
    assert len(seen) > 2 and len(seen) == len(set(seen))


def test_feeds_sitemap_robots_health(site: dict[str, Any]) -> None:
    atom = feedparser.parse(get(site, "/en/ES/feed.atom").content)
    assert atom.entries and all(e.link.startswith("http://testserver/en/a/") for e in atom.entries)
    assert any(link.get("rel") == "via" for link in atom.entries[0].links)
    rss = feedparser.parse(get(site, "/en/ES/feed.rss").content)
    assert len(rss.entries) == len(atom.entries)
    index = get(site, "/sitemap.xml").text
    assert "<sitemapindex" in index
    pages = re.findall(r"<loc>http://testserver(/sitemap\.xml\?page=\d+)</loc>", index)
    assert pages[0] == "/sitemap.xml?page=0" and len(pages) >= 2
    fronts = get(site, pages[0]).text
    assert "<urlset" in fronts and "<loc>http://testserver/en/</loc>" in fronts
    listed = {int(i) for p in pages[1:] for i in
              re.findall(r"<loc>http://testserver/en/a/(\d+)</loc>", get(site, p).text)}
    with site["ctx"].db.session() as s:
        ready = set(s.scalars(select(Article.id).where(Article.status == READY)))
    assert listed == ready
    assert get(site, "/sitemap.xml?page=x").status_code == 404
    assert "Sitemap:" in get(site, "/robots.txt").text
    assert get(site, "/healthz").json()["articles"] > 50


def test_switch_keeps_the_reader_on_the_equivalent_page(site: dict[str, Any]) -> None:
    r = get(site, "/switch?lang=de&next=/en/a/5-some-title")
    assert r.status_code == 303 and r.headers["location"] == "/de/a/5-some-title"
    assert "lang=de" in r.headers["set-cookie"]
    r = get(site, "/switch?lang=en&country=FR&next=/en/")
    assert r.headers["location"] == "/en/FR/"
    r = get(site, "/switch?lang=en&next=//evil.example/x")
    assert r.headers["location"] == "/en/"


def test_opted_out_publishers_vanish(site: dict[str, Any]) -> None:
    art = article_in(site, "gazeta-do-planalto")
    with site["ctx"].db.session() as s:
        s.execute(update(Source).where(Source.id == "gazeta-do-planalto").values(opt_out=True))
    try:
        assert follow(site, f"/en/a/{art.id}").status_code == 404
        assert "Gazeta do Planalto" not in news_list(get(site, "/en/all").text)
        api = get(site, "/api/v1/articles?source=gazeta-do-planalto").json()
        assert api["items"] == []
        assert get(site, f"/api/v1/articles/{art.id}").status_code == 404
        assert get(site, "/en/BR/feed.atom").status_code == 404
    finally:
        with site["ctx"].db.session() as s:
            s.execute(update(Source).where(Source.id == "gazeta-do-planalto")
                      .values(opt_out=False))


def test_json_api(site: dict[str, Any]) -> None:
    first = get(site, "/api/v1/articles?lang=en&limit=5").json()
    assert len(first["items"]) == 5 and first["next"]
    keys = {"id", "url", "language", "title", "source", "country", "published", "story_id"}
    assert keys <= set(first["items"][0])
    second = get(site, f"/api/v1/articles?lang=en&limit=5&cursor={first['next']}").json()
    assert not {i["id"] for i in first["items"]} & {i["id"] for i in second["items"]}
    art = article_in(site, "cronica-del-tajo")
    by_url = get(site, "/api/v1/articles", params={"url": art.url}).json()
    assert [i["id"] for i in by_url["items"]] == [art.id]
    detail = get(site, f"/api/v1/articles/{art.id}?lang=en").json()
    assert {"id", "url", "language", "title", "text", "blocks", "source", "country",
            "published", "story_id", "translation"} <= set(detail)
    assert detail["language"] == "es" and detail["translation"]["engines"]
    assert detail["translation"]["path"] == ["es", "en"]
    similar = get(site, f"/api/v1/articles/{art.id}/similar?limit=5").json()
    assert all({"id", "url", "language", "title", "source", "country"} <= set(i)
               for i in similar["items"])
    assert art.id not in [i["id"] for i in similar["items"]]
    assert len(get(site, "/api/v1/sources").json()) == 9
    assert {c["code"] for c in get(site, "/api/v1/countries").json()} >= {"RU", "UA", "ES"}
    assert get(site, "/api/v1/search?q=flood&lang=en").status_code == 200
    assert get(site, "/api/v1/articles?lang=xx").status_code == 400
    assert get(site, "/api/v1/articles?limit=100000").status_code == 422
    spec = get(site, "/api/v1/openapi.json").json()
    assert "/articles/{article_id}/similar" in spec["paths"]


def test_every_ui_language_renders(site: dict[str, Any], tmp_path: Path) -> None:
    art = article_in(site, "neva-courier")
    for lang in site["ctx"].settings.reader_languages:
        for url in (f"/{lang}/", f"/{lang}/all", f"/{lang}/RU/", f"/{lang}/search?q=a"):
            r = get(site, url)
            assert r.status_code == 200, url
            assert f'<html lang="{lang}"' in r.text
        assert follow(site, f"/{lang}/a/{art.id}").status_code == 200


def test_similar_news_finds_the_same_story_in_other_languages(site: dict[str, Any],
                                                              newsroom: Any) -> None:
    from babelwire.ingest.dedup import canonicalize_url

    demo = newsroom.articles()
    ids = {}
    with site["ctx"].db.session() as s:
        for a in demo:
            row = s.scalar(select(Article.id).where(Article.url == canonicalize_url(a.url),
                                                    Article.status == READY))
            if row is not None:
                ids[row] = a
    found = total = 0
    for aid, item in ids.items():
        if not item.story:
            continue
        same = {i for i, other in ids.items() if other.story == item.story and i != aid}
        if not same:
            continue
        got = [i["id"] for i in get(site, f"/api/v1/articles/{aid}/similar?lang=en&limit=5")
               .json()["items"]]
        total += len(same)
        found += len(same & set(got))
    print(f"same-story coverage among the top 5 similar items: {found}/{total}")
    assert total and found / total >= 0.6


def test_rendered_pages_are_cached_for_a_while(site: dict[str, Any]) -> None:
    from babelwire.web.app import create_app as make_app

    ctx = site["ctx"]
    cached_app = make_app(Context(settings=ctx.settings.with_(page_cache_seconds=60),
                                  db=ctx.db, catalog=ctx.catalog))
    cached = {"ctx": ctx, "app": cached_app}
    art = article_in(site, "dnipro-chas")
    first = follow(cached, f"/en/a/{art.id}")
    with ctx.db.session() as s:
        s.execute(update(Article).where(Article.id == art.id)
                  .values(title="Changed after the page was cached"))
    again = get(cached, first.url.path)
    assert again.text == first.text  # served from memory
    fresh = follow(site, f"/en/a/{art.id}")  # an app without the cache renders anew
    assert "Changed after the page was cached" in fresh.text


def test_pages_never_read_the_store_on_the_event_loop(site: dict[str, Any]) -> None:
    """Every page's queries run in a worker thread, never the loop's (here the main one)."""
    import threading

    from sqlalchemy import event

    engine = site["ctx"].db.engine
    on_loop: list[str] = []
    seen: list[int] = []

    def spy(*_args: Any) -> None:
        seen.append(1)
        if threading.current_thread() is threading.main_thread():
            on_loop.append(_args[2][:60])

    art = article_in(site, "harbour-gazette")
    event.listen(engine, "before_cursor_execute", spy)
    try:
        for url in ("/en/", "/en/all", "/en/RU/", f"/en/a/{art.id}", "/en/search?q=harbour",
                    "/en/settings", "/en/no-such-page/x", f"/en/s/{art.story_id or 1}",
                    "/sitemap.xml", "/sitemap.xml?page=1", "/en/RU/feed.atom", "/healthz",
                    "/api/v1/search?q=harbour", f"/api/v1/articles/{art.id}"):
            follow(site, url)
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert len(seen) > 20 and on_loop == []
