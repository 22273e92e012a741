"""The first visit to an article in a reader language it has no translation into yet, and
"Languages I read": in process (httpx over ASGI) over the demo newsroom crawled with real
Apertium once for the module (full text eagerly into English only, so every other reader
language starts untranslated).

Each test uses its own (article, language) pairs, so none sees another's translation."""

from __future__ import annotations

import asyncio
import html
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.crawl import crawl_once
from babelwire.store.models import READY, Article, Translation
from babelwire.translate import apertium
from babelwire.translate.articles import ArticleTranslation, translate_article
from babelwire.web.app import create_app
from babelwire.web.i18n import language_name, load_translations
from babelwire.web.ondemand import OnDemand
from tests.support.factories import make_settings

pytestmark = pytest.mark.skipif(not apertium.available(), reason="Apertium is not installed")

CLIENT_A, CLIENT_B = "192.0.2.10", "192.0.2.20"
PENDING_NOTICE = 'class="mt-notice pending"'
FULL_NOTICE = ("Too many translations are waiting right now: the article is shown in the "
               "original %(language)s. Try again in a few minutes.")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, newsroom: Any) -> Iterator[Context]:
    settings = make_settings(tmp_path_factory.mktemp("first-visit"), translate=True,
                             engines=("apertium",), translate_eager_languages=("en",))
    ctx = Context.open(settings, catalog=catalog_from_specs(newsroom.sources()))
    asyncio.run(crawl_once(ctx))
    yield ctx
    ctx.close()


def variant(ctx: Context, **settings: Any) -> Context:
    """The same store and engines under other settings."""
    return Context(settings=ctx.settings.with_(**settings), db=ctx.db, catalog=ctx.catalog,
                   _translator=ctx.translator)


def articles(ctx: Context, language: str, need: int = 4) -> list[Article]:
    with ctx.db.session() as s:
        found = list(s.scalars(select(Article).where(
            Article.language == language, Article.status == READY,
            Article.source_id != "el-mirador-austral")  # excerpt-only: keep to full text
            .order_by(Article.id)))
    assert len(found) >= need, f"the demo has too few {language} articles"
    return found


def full_translation(ctx: Context, aid: int, lang: str) -> Translation | None:
    with ctx.db.session() as s:
        return s.scalar(select(Translation).where(Translation.article_id == aid,
                                                  Translation.language == lang,
                                                  Translation.scope == "full"))


def client(app: Any, address: str = CLIENT_A, **cookies: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    c = httpx.AsyncClient(transport=transport, base_url="http://testserver",
                          follow_redirects=True)
    for name, value in cookies.items():
        c.cookies.set(name, value)
    return c


def fetch(app: Any, url: str, address: str = CLIENT_A, **cookies: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with client(app, address, **cookies) as c:
            return await c.get(url)

    return asyncio.run(go())


def drain(app: Any) -> None:
    asyncio.run(app.state.ondemand.drain())


def body_lang(html: str) -> str:
    found = re.search(r'data-testid="article-body" lang="([^"]*)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def slow(delay: float, only: set[int] | None = None,
         gate: threading.Event | None = None) -> Any:
    """translate_article behind a delay (or a gate), for the articles in `only` (all when
    None): real Apertium made slow enough to outlast a budget."""
    def translate(ctx: Context, aid: int, lang: str) -> ArticleTranslation:
        if only is None or aid in only:
            if gate is not None:
                assert gate.wait(30), "the test never opened the gate"
            time.sleep(delay)
        return translate_article(ctx, aid, lang)

    return translate


# --------------------------------------------------------------------------- within budget


def test_first_visit_shows_the_translation(site: Context) -> None:
    art = articles(site, "es")[0]
    assert full_translation(site, art.id, "fr") is None  # French is not eager
    app = create_app(variant(site, translate_request_budget=10.0))
    try:
        t0 = time.monotonic()
        page = fetch(app, f"/fr/a/{art.id}")
        took = time.monotonic() - t0
        assert page.status_code == 200
        assert body_lang(page.text) == "fr"
        notice = re.search(r'data-testid="mt-notice".*?</div>', page.text, re.S)
        assert notice is not None and "Apertium" in notice.group(0)
        assert PENDING_NOTICE not in page.text and 'http-equiv="refresh"' not in page.text
        tr = full_translation(site, art.id, "fr")
        assert tr is not None and tr.blocks
        assert str(escape(str(tr.blocks[0]["text"]))) in page.text
        print(f"first visit es→fr of article {art.id}: translated in the request, {took:.2f} s")
    finally:
        app.state.ondemand.close()


# --------------------------------------------------------------------------- past the budget


def test_past_the_budget_the_original_then_the_translation(site: Context) -> None:
    art = articles(site, "es")[1]
    vctx = variant(site, translate_request_budget=0.2)
    app = create_app(vctx, ondemand=OnDemand(vctx, translate=slow(1.0)))
    try:
        first = fetch(app, f"/fr/a/{art.id}")
        assert first.status_code == 200
        assert body_lang(first.text) == "es"  # the original, never a blank page
        assert PENDING_NOTICE in first.text
        status_url = f"/api/v1/articles/{art.id}/translation-status?lang=fr"
        assert f'data-translation-status="{status_url}"' in first.text
        assert re.search(r'<noscript><meta http-equiv="refresh" content="\d+"></noscript>',
                         first.text)
        assert first.headers["cache-control"] == "no-store"
        status = fetch(app, status_url).json()
        assert status == {"article_id": art.id, "language": "fr", "status": "pending",
                          "ready": False}
        drain(app)  # the job went on in the background
        assert fetch(app, status_url).json()["ready"] is True
        later = fetch(app, f"/fr/a/{art.id}")
        assert body_lang(later.text) == "fr" and PENDING_NOTICE not in later.text
        assert 'http-equiv="refresh"' not in later.text
    finally:
        app.state.ondemand.close()


# --------------------------------------------------------------------------- bounds


def test_one_client_waits_for_at_most_k_translations(site: Context) -> None:
    english = articles(site, "en", 9)
    mine, other = english[:6], english[6]
    for a in (*mine, other):
        assert full_translation(site, a.id, "es") is None
    vctx = variant(site, translate_request_budget=20.0, translate_request_per_client=2)
    peak: list[int] = []
    inner = slow(1.0, only={a.id for a in mine})

    def translate(ctx: Context, aid: int, lang: str) -> ArticleTranslation:
        peak.append(ondemand.waiting(CLIENT_A))
        return inner(ctx, aid, lang)

    ondemand = OnDemand(vctx, per_client=2, workers=2, translate=translate)
    app = create_app(vctx, ondemand=ondemand)

    async def timed(c: httpx.AsyncClient, url: str) -> tuple[httpx.Response, float]:
        t0 = time.monotonic()
        r = await c.get(url)
        return r, time.monotonic() - t0

    async def go() -> tuple[list[tuple[httpx.Response, float]], tuple[httpx.Response, float]]:
        async with client(app, CLIENT_A) as a, client(app, CLIENT_B) as b:
            flood = [asyncio.create_task(timed(a, f"/es/a/{x.id}")) for x in mine]
            await asyncio.sleep(0.05)  # client A's requests are in
            theirs = await timed(b, f"/es/a/{other.id}")
            return list(await asyncio.gather(*flood)), theirs

    try:
        flood, (theirs, their_time) = asyncio.run(go())
        assert all(r.status_code == 200 for r, _ in flood), [r.status_code for r, _ in flood]
        langs = [body_lang(r.text) for r, _ in flood]
        assert langs.count("es") == 2, langs  # K = 2 waited and got the translation
        assert langs.count("en") == 4, langs  # the others: the original and the notice
        for (r, took), lang in zip(flood, langs, strict=True):
            if lang == "en":
                assert PENDING_NOTICE in r.text
                assert took < 0.5, took  # returned without waiting for any translation
        assert max(peak) <= 2, peak
        # another client is unaffected: its page waits behind at most the jobs running,
        # not behind client A's backlog (urgent jobs first)
        assert theirs.status_code == 200 and body_lang(theirs.text) == "es", their_time
        drain(app)
        for x in mine:  # the backlog was translated in the background all the same
            assert full_translation(site, x.id, "es") is not None
        print(f"per-client bound: client B's page in {their_time:.2f} s; client A's "
              f"pages: {sorted(round(t, 2) for _, t in flood)} s")
    finally:
        ondemand.close()


def test_a_full_queue_says_so(site: Context) -> None:
    english = articles(site, "en", 9)
    first, second = english[7], english[8]
    gate = threading.Event()
    vctx = variant(site, translate_request_budget=0.0)
    ondemand = OnDemand(vctx, max_pending=1, translate=slow(0.0, gate=gate))
    app = create_app(vctx, ondemand=ondemand)
    try:
        queued = fetch(app, f"/ca/a/{first.id}")
        assert queued.status_code == 200 and PENDING_NOTICE in queued.text
        full = fetch(app, f"/ca/a/{second.id}", CLIENT_B)
        assert full.status_code == 200
        notice = load_translations("ca").gettext(FULL_NOTICE) % {
            "language": language_name("en", "ca")}
        assert notice != FULL_NOTICE and notice in full.text  # said in the reader's language
        assert body_lang(full.text) == "en"
        assert 'data-translation-status' not in full.text  # nothing is coming: no polling
        assert full.headers["cache-control"] == "no-store"
        status = fetch(app, f"/api/v1/articles/{second.id}/translation-status?lang=ca")
        assert status.json()["status"] == "none"
        gate.set()
        drain(app)
        again = fetch(app, f"/ca/a/{second.id}", CLIENT_B)  # room again: queued now
        assert PENDING_NOTICE in again.text and notice not in again.text
        drain(app)
        assert body_lang(fetch(app, f"/ca/a/{second.id}", CLIENT_B).text) == "ca"
    finally:
        gate.set()
        ondemand.close()


def test_the_cache_never_keeps_the_in_progress_page(site: Context) -> None:
    art = articles(site, "es")[2]
    vctx = variant(site, translate_request_budget=0.0, page_cache_seconds=60.0)
    app = create_app(vctx)
    try:
        first = fetch(app, f"/pt/a/{art.id}")
        assert PENDING_NOTICE in first.text and body_lang(first.text) == "es"
        cache = app.state.pages.pages
        assert not any(key[0].startswith(f"/pt/a/{art.id}-") for key in cache._data)
        drain(app)
        second = fetch(app, f"/pt/a/{art.id}")
        assert body_lang(second.text) == "pt"  # not the in-progress page from memory
        assert any(key[0].startswith(f"/pt/a/{art.id}-") for key in cache._data)
    finally:
        app.state.ondemand.close()


# --------------------------------------------------------------------------- languages I read


def test_languages_i_read_are_shown_unlabelled(site: Context) -> None:
    app = create_app(site)
    spanish = {a.id: a for a in articles(site, "es")}
    try:
        # es→de: no route, so Spanish items in German listings are "not translated"
        label = load_translations("de").gettext("Original: %(language)s (not translated)") \
            % {"language": "Spanisch"}
        plain = fetch(app, "/de/all").text
        assert label in plain
        read = fetch(app, "/de/all", reads="es").text
        assert label not in read
        assert '<span class="orig-lang">Spanisch</span>' in read
        # in English the Spanish headlines are translated: a reader of Spanish gets the
        # original ones
        item = re.compile(r'href="/en/a/(\d+)-[^"]*" lang="([^"]*)">([^<]*)</a>')
        english = {int(i): (lg, t) for i, lg, t in item.findall(fetch(app, "/en/all").text)}
        as_read = {int(i): (lg, t) for i, lg, t in
                   item.findall(fetch(app, "/en/all", reads="es").text)}
        shown = [i for i in spanish if i in as_read]
        assert shown
        for i in shown:
            assert as_read[i][0] == "es" and english[i][0] == "en"
            assert html.unescape(as_read[i][1]) == spanish[i].title
            assert html.unescape(english[i][1]) != spanish[i].title
        # the article itself: the original, no machine-translation notice
        aid = shown[0]
        page = fetch(app, f"/en/a/{aid}", reads="es")
        assert body_lang(page.text) == "es"
        assert 'data-testid="reads-notice"' in page.text
        assert 'data-testid="mt-notice"' not in page.text
        assert 'data-testid="translate-anyway"' in page.text  # a translation if wanted
        wanted = fetch(app, f"/en/a/{aid}?view=translated", reads="es")
        assert body_lang(wanted.text) == "en"
    finally:
        app.state.ondemand.close()


def test_a_language_i_read_is_the_fallback_when_no_route_reaches_mine(site: Context) -> None:
    art = articles(site, "es")[3]
    assert not site.translator.has_route("es", "de") and site.translator.has_route("es", "fr")
    fallback = next(c for c in ("it", "fr") if site.translator.has_route("es", c))
    app = create_app(variant(site, translate_request_budget=10.0))
    try:
        without = fetch(app, f"/de/a/{art.id}")
        assert body_lang(without.text) == "es"  # no route and no fallback: the original
        page = fetch(app, f"/de/a/{art.id}", reads="it.fr")  # the first with a route
        assert page.status_code == 200
        assert body_lang(page.text) == fallback
        expected = load_translations("de").gettext(
            "No installed translation engine translates %(language)s into %(target)s: "
            "machine-translated into %(fallback)s, a language you read, by %(engine)s.") % {
            "language": "Spanisch", "target": "Deutsch",
            "fallback": language_name(fallback, "de"), "engine": "Apertium"}
        assert expected in page.text
        assert full_translation(site, art.id, fallback) is not None
        assert full_translation(site, art.id, "de") is None
    finally:
        app.state.ondemand.close()


def test_the_settings_form(site: Context) -> None:
    app = create_app(site)

    async def go() -> tuple[httpx.Response, ...]:
        async with client(app) as c:
            form = await c.get("/en/settings?next=/en/all")
            saved = await c.post("/en/settings", data={"reads": ["es", "fr", "xx"],
                                                       "next": "/en/all"},
                                 follow_redirects=False)
            again = await c.get(saved.headers["location"])
            hostile = await c.post("/en/settings", data={"reads": "ru"},
                                   headers={"Origin": "https://evil.example"},
                                   follow_redirects=False)
            return form, saved, again, hostile

    try:
        form, saved, again, hostile = asyncio.run(go())
        assert form.status_code == 200
        assert '<form class="reads-form" method="post" action="/en/settings"' in form.text
        assert re.search(r'<input type="checkbox" id="reads-es" name="reads" value="es">\s*'
                         r'<label for="reads-es">Spanish', form.text)
        assert 'id="reads-en"' not in form.text  # the page's own language is not offered
        assert saved.status_code == 303
        assert "reads=es.fr;" in saved.headers["set-cookie"]  # "xx" is not a choice
        assert again.status_code == 200 and 'data-testid="reads-saved"' in again.text
        assert 'value="es" checked' in again.text and 'value="fr" checked' in again.text
        assert '<a href="/en/all">Continue reading</a>' in again.text  # back where it was
        assert hostile.status_code == 403 and "set-cookie" not in hostile.headers
    finally:
        app.state.ondemand.close()
