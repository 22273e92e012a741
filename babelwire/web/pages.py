"""The reader's pages. Handlers read through store/reader.py and render templates; the only
pipeline call is asking for an on-demand translation (a background job)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from babelwire.context import Context
from babelwire.similar.news import similar_news
from babelwire.store import reader, stories
from babelwire.translate.articles import AlignedBlock, aligned_text, notice_blocks
from babelwire.web.cache import TTLCache
from babelwire.web.ondemand import OnDemand
from babelwire.web.render import Renderer, slugify

COOKIE_AGE = 365 * 24 * 3600
MAX_QUERY = 200
FRONT_PER_COUNTRY = 4


class Pages:
    def __init__(self, ctx: Context, renderer: Renderer, ondemand: OnDemand) -> None:
        self.ctx = ctx
        self.r = renderer
        self.languages = renderer.languages
        self.ondemand = ondemand
        seconds = ctx.settings.page_cache_seconds
        self.pages: TTLCache[Response] = TTLCache(seconds)
        self.similar: TTLCache[list[reader.Item]] = TTLCache(max(seconds, 0) * 15)

    # ------------------------------------------------------------------ helpers

    def _lang(self, request: Request) -> str | None:
        lang = request.path_params.get("lang", "")
        return lang if lang in self.languages else None

    def _common(self, request: Request, lang: str, country: str | None = None
                ) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            countries = reader.source_countries(s)
        return {"countries": countries, "country": country}

    def not_found(self, request: Request, lang: str | None = None) -> Response:
        lang = lang or self._preferred(request)
        return self.r.page(request, "404.html", lang, status=404,
                           **self._common(request, lang))

    def _preferred(self, request: Request) -> str:
        cookie = request.cookies.get("lang")
        if cookie in self.languages:
            return str(cookie)
        return self.r.i18n.negotiate(request.headers.get("accept-language"))

    # ------------------------------------------------------------------ pages

    async def root(self, request: Request) -> Response:
        lang = self._preferred(request)
        return RedirectResponse(f"/{lang}/", status_code=302,
                                headers={"Vary": "Cookie, Accept-Language"})

    def _cached(self, request: Request) -> Response | None:
        return self.pages.get((request.url.path, request.url.query))

    def _keep(self, request: Request, response: Response) -> Response:
        if response.status_code == 200:
            self.pages.put((request.url.path, request.url.query), response)
        return response

    async def front(self, request: Request) -> Response:
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        common = self._common(request, lang)
        with self.ctx.db.session() as s:
            top = stories.top_stories(s, lang, limit=12)
            # before any story is formed (embeddings off or still running): newest first
            latest = [] if top else reader.list_articles(s, lang=lang, limit=12)[0]
            sections = []
            for code in common["countries"]:
                items, _ = reader.list_articles(s, lang=lang, country=code,
                                                limit=FRONT_PER_COUNTRY)
                if items:
                    sections.append((code, items))
        return self._keep(request, self.r.page(request, "front.html", lang, top=top,
                                               latest=latest, sections=sections, **common))

    async def story(self, request: Request) -> Response:
        """/{lang}/s/{id}: a story's full coverage, grouped by country."""
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        asked = request.path_params["id"]
        with self.ctx.db.session() as s:
            now_in = stories.current_id(s, asked)
            cov = stories.story_coverage(s, asked, lang) if now_in == asked else None
        if now_in is not None and now_in != asked:  # merged into another story
            return RedirectResponse(f"/{lang}/s/{now_in}", status_code=301)
        if cov is None:
            return self.not_found(request, lang)
        return self._keep(request, self.r.page(request, "story.html", lang, cov=cov,
                                               **self._common(request, lang)))

    async def listing(self, request: Request) -> Response:
        """/{lang}/all and /{lang}/{country}/ (with filters and keyset pagination)."""
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        country = request.path_params.get("country")
        if country is not None:
            country = country.upper()
            if len(country) != 2 or not country.isalpha():
                return self.not_found(request, lang)
        params = request.query_params
        filt_country = country or (params.get("country") or "").upper()[:2] or None
        source = (params.get("source") or "")[:80] or None
        original = (params.get("original") or "")[:10] or None
        cursor = reader.Cursor.decode(params.get("cursor"))
        common = self._common(request, lang, country)
        if country and country not in common["countries"]:
            return self.not_found(request, lang)
        with self.ctx.db.session() as s:
            items, nxt = reader.list_articles(s, lang=lang, country=filt_country,
                                              source=source, original_language=original,
                                              cursor=cursor, limit=30)
            srcs = reader.sources(s, filt_country)
        return self._keep(request, self.r.page(
            request, "listing.html", lang, items=items,
            next_cursor=nxt.encode() if nxt else None, sources=srcs,
            filters={"country": filt_country, "source": source, "original": original},
            page_country=country, **common))

    async def article_redirect(self, request: Request) -> Response:
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        aid = request.path_params["id"]
        with self.ctx.db.session() as s:
            view = reader.get_article(s, aid, lang)
        if view is None:
            return self.not_found(request, lang)
        slug = slugify(view.item.title) or "article"
        mode = request.query_params.get("view")
        suffix = f"?view={mode}" if mode in ("original", "bilingual") else ""
        return RedirectResponse(f"/{lang}/a/{aid}-{slug}{suffix}", status_code=301)

    async def article(self, request: Request) -> Response:
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        aid = request.path_params["id"]
        mode = request.query_params.get("view", "translated")
        if mode not in ("translated", "original", "bilingual"):
            mode = "translated"
        with self.ctx.db.session() as s:
            view = reader.get_article(s, aid, lang)
            if view is None:
                return self.not_found(request, lang)
            similar = self.similar.get_or_compute(
                (aid, lang), lambda: similar_news(self.ctx, s, aid, lang))
            story = (stories.story_summary(s, view.article.story_id, lang)
                     if view.article.story_id is not None else None)
        art, src, tr = view.article, view.source, view.translation
        slug = slugify(view.item.title) or "article"
        if request.path_params.get("slug") != slug:
            return RedirectResponse(f"/{lang}/a/{aid}-{slug}" + (
                f"?view={mode}" if mode != "translated" else ""), status_code=301)
        policy = src.policy if src else "full_text"
        text = aligned_text(art, view.blocks, policy, tr)
        state = "original"  # same language: nothing to translate
        note_engine = None
        if art.language and art.language != lang:
            if text.current:
                state = "translated"
            elif self.ctx.translator.has_route(art.language, lang):
                state = "in_progress"
                self.ondemand.request(aid, lang)
            else:
                state = "no_route"
                note_engine = self._missing_engine_hint(art.language, lang)
        # only a current translation is shown as the article's text
        pairs = [b if state == "translated" else AlignedBlock(b.type, b.original, b.original,
                                                              False)
                 for b in text.blocks]
        title = view.item.title if state == "translated" or view.item.translated else art.title
        ld = {
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": (title or "")[:110], "inLanguage": lang if state == "translated"
            else art.language, "isBasedOn": art.url, "url": str(request.url.replace(query="")),
            "datePublished": art.published_at.isoformat() if art.published_at else None,
            "author": [{"@type": "Person", "name": a} for a in art.authors or []],
            "publisher": {"@type": "Organization", "name": src.name if src else art.site_name},
            "translator": {"@type": "Organization", "name": ", ".join(tr.engines)}
            if state == "translated" and tr is not None else None,
        }
        ld_json = json.dumps({k: v for k, v in ld.items() if v is not None},
                             ensure_ascii=False).replace("</", "<\\/")
        common = self._common(request, lang, art.country)
        keep = state != "in_progress"  # a transient state is never cached
        engine_label = ", ".join(dict.fromkeys(
            e.split()[0].capitalize() for e in (tr.engines if tr is not None else []) if e))
        page = self.r.page(
            request, "article.html", lang, view=view, art=art, src=src, tr=tr, state=state,
            engine_label=engine_label,
            mode=mode, blocks=pairs, title=title, policy=policy, similar=similar,
            notices=notice_blocks(view.blocks), story=story,
            note_engine=note_engine, ld_json=ld_json, slug=slug,
            original_host=urlsplit(art.url).hostname or art.url, **common)
        return self._keep(request, page) if keep else page

    def _missing_engine_hint(self, source: str, target: str) -> str:
        return f"Argos Translate {source}→{target}"

    async def search(self, request: Request) -> Response:
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        q = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
        items: list[reader.Item] = []
        if q:
            with self.ctx.db.session() as s:
                items = reader.search(s, q, lang, limit=50)
        return self.r.page(request, "search.html", lang, q=q, items=items,
                           **self._common(request, lang))

    async def switch(self, request: Request) -> Response:
        """The selectors' target (works without JavaScript): remember the choice and go to
        the equivalent page."""
        params = request.query_params
        nxt = params.get("next") or "/"
        if not nxt.startswith("/") or nxt.startswith("//"):
            nxt = "/"
        parts = nxt.split("?", 1)[0].strip("/").split("/")
        lang = params.get("lang") or (parts[0] if parts and parts[0] in self.languages
                                      else self._preferred(request))
        if lang not in self.languages:
            lang = self._preferred(request)
        country = (params.get("country") or "").upper()
        rest = parts[1:] if parts and parts[0] in self.languages else []
        if "country" in params:
            target = f"/{lang}/{country}/" if country else f"/{lang}/"
        elif rest:
            target = "/" + "/".join([lang, *rest]) + ("/" if nxt.endswith("/") else "")
            if "?" in nxt:
                target += "?" + nxt.split("?", 1)[1]
        else:
            target = f"/{lang}/"
        resp = RedirectResponse(target, status_code=303)
        resp.set_cookie("lang", lang, max_age=COOKIE_AGE, samesite="lax")
        if "country" in params:
            resp.set_cookie("country", country, max_age=COOKIE_AGE, samesite="lax")
        return resp

    async def robots(self, request: Request) -> Response:
        return PlainTextResponse("User-agent: *\nAllow: /\nDisallow: /api/\nSitemap: "
                                 f"{str(request.base_url).rstrip('/')}/sitemap.xml\n")
