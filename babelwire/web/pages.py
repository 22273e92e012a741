"""The reader's pages. Handlers read through store/reader.py and render templates; the only
pipeline call is an on-demand translation (web/ondemand.py), waited for in the request for
a short budget, then left to finish in the background."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from babelwire.context import Context
from babelwire.similar.news import similar_news
from babelwire.store import reader, stories
from babelwire.store.models import Translation
from babelwire.store.search import Filters, QueryError
from babelwire.translate.articles import AlignedBlock, aligned_text, notice_blocks
from babelwire.web.cache import TTLCache
from babelwire.web.i18n import language_name
from babelwire.web.ondemand import OnDemand
from babelwire.web.render import Renderer, slugify
from babelwire.web.views.common import as_read
from babelwire.web.views.search import BadRequest, SearchView, build_search

COOKIE_AGE = 365 * 24 * 3600
MAX_QUERY = 200
FRONT_PER_COUNTRY = 4
READS_COOKIE = "reads"  # "Languages I read": codes joined by "."
MAX_READS = 12
LANG_CODE = re.compile(r"[a-z]{2,3}")
REFRESH_SECONDS = 5  # a pending page reloads itself this often without JavaScript
# article states that may be cached: the others (in progress, queue full, failed) pass
STABLE_STATES = ("translated", "original", "reads", "no_route")


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

    def reads(self, request: Request, lang: str) -> tuple[str, ...]:
        """The other languages the reader reads ("Languages I read", a cookie), in the
        order given, less the page's own language."""
        raw = request.cookies.get(READS_COOKIE) or ""
        codes = [c for c in raw.split(".")[:MAX_READS] if LANG_CODE.fullmatch(c)]
        return tuple(dict.fromkeys(c for c in codes if c != lang))

    def _common(self, request: Request, lang: str, country: str | None = None
                ) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            countries = reader.source_countries(s)
        return {"countries": countries, "country": country,
                "reads": self.reads(request, lang)}

    def not_found(self, request: Request, lang: str | None = None) -> Response:
        lang = lang or self._preferred(request)
        return self.r.page(request, "404.html", lang, status=404,
                           **self._common(request, lang))

    def _preferred(self, request: Request) -> str:
        cookie = request.cookies.get("lang")
        if cookie in self.languages:
            return str(cookie)
        return self.r.i18n.negotiate(request.headers.get("accept-language"))

    @staticmethod
    def _as_read(s: Session, items: list[reader.Item], reads: tuple[str, ...]
                 ) -> list[reader.Item]:
        return as_read(s, items, reads)

    def _stories_as_read(self, s: Session, top: list[stories.StorySummary],
                         reads: tuple[str, ...]) -> list[stories.StorySummary]:
        if not reads:
            return top
        leads = self._as_read(s, [st.lead for st in top], reads)
        return [replace(st, lead=lead) for st, lead in zip(top, leads, strict=True)]

    # ------------------------------------------------------------------ pages

    async def root(self, request: Request) -> Response:
        lang = self._preferred(request)
        return RedirectResponse(f"/{lang}/", status_code=302,
                                headers={"Vary": "Cookie, Accept-Language"})

    def _key(self, request: Request) -> tuple[str, str, tuple[str, ...]]:
        lang = request.path_params.get("lang", "")
        return (request.url.path, request.url.query, self.reads(request, lang))

    def _cached(self, request: Request) -> Response | None:
        return self.pages.get(self._key(request))

    def _keep(self, request: Request, response: Response) -> Response:
        if response.status_code == 200:
            self.pages.put(self._key(request), response)
        return response

    async def front(self, request: Request) -> Response:
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        common = self._common(request, lang)
        reads = common["reads"]
        with self.ctx.db.session() as s:
            top = self._stories_as_read(s, stories.top_stories(s, lang, limit=12), reads)
            # before any story is formed (embeddings off or still running): newest first
            latest = [] if top else self._as_read(
                s, reader.list_articles(s, lang=lang, limit=12)[0], reads)
            sections = []
            for code in common["countries"]:
                items, _ = reader.list_articles(s, lang=lang, country=code,
                                                limit=FRONT_PER_COUNTRY)
                if items:
                    sections.append((code, self._as_read(s, items, reads)))
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
        common = self._common(request, lang)
        reads = common["reads"]
        with self.ctx.db.session() as s:
            now_in = stories.current_id(s, asked)
            cov = stories.story_coverage(s, asked, lang) if now_in == asked else None
            if cov is not None and reads:
                cov.summary = self._stories_as_read(s, [cov.summary], reads)[0]
                cov.by_country = [(code, self._as_read(s, items, reads))
                                  for code, items in cov.by_country]
        if now_in is not None and now_in != asked:  # merged into another story
            return RedirectResponse(f"/{lang}/s/{now_in}", status_code=301)
        if cov is None:
            return self.not_found(request, lang)
        return self._keep(request, self.r.page(request, "story.html", lang, cov=cov,
                                               **common))

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
            items = self._as_read(s, items, common["reads"])
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
        suffix = f"?view={mode}" if mode in ("original", "bilingual", "translated") else ""
        return RedirectResponse(f"/{lang}/a/{aid}-{slug}{suffix}", status_code=301)

    def _translation(self, aid: int, language: str) -> Translation | None:
        with self.ctx.db.session() as s:
            view = reader.get_article(s, aid, language)
            return view.translation if view is not None else None

    def _fallback(self, view: reader.ArticleView, reads: tuple[str, ...], policy: str
                  ) -> tuple[str, Translation | None] | None:
        """A language the reader reads that the article can be shown in, translated, when
        none reaches the page's language: one with a current translation, else the first
        with a route."""
        art = view.article
        source = art.language or ""
        routed = None
        for code in reads:
            tr = self._translation(art.id, code)
            if aligned_text(art, view.blocks, policy, tr).current:
                return code, tr
            if routed is None and self.ctx.translator.has_route(source, code):
                routed = (code, tr)
        return routed

    async def article(self, request: Request) -> Response:
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        aid = request.path_params["id"]
        asked_view = request.query_params.get("view")
        mode = asked_view if asked_view in ("translated", "original", "bilingual") \
            else "translated"
        reads = self.reads(request, lang)
        with self.ctx.db.session() as s:
            view = reader.get_article(s, aid, lang)
            if view is None:
                return self.not_found(request, lang)
            similar = self._as_read(s, self.similar.get_or_compute(
                (aid, lang), lambda: similar_news(self.ctx, s, aid, lang)), reads)
            story = (stories.story_summary(s, view.article.story_id, lang)
                     if view.article.story_id is not None else None)
        art, src = view.article, view.source
        slug = slugify(view.item.title) or "article"
        if request.path_params.get("slug") != slug:
            return RedirectResponse(f"/{lang}/a/{aid}-{slug}" + (
                f"?view={mode}" if asked_view == mode else ""), status_code=301)
        policy = src.policy if src else "full_text"
        orig = art.language or ""

        # what the reader gets: the original, or a translation into `target` (the page's
        # language, or a language the reader reads when no engine reaches the page's)
        state = "original"  # same language (or unknown): nothing to translate
        target, tr, note_engine = lang, view.translation, None
        if orig and orig != lang:
            if orig in reads and asked_view is None:
                state = "reads"  # the reader reads it: the original, unlabelled
            elif aligned_text(art, view.blocks, policy, tr).current:
                state = "translated"
            elif self.ctx.translator.has_route(orig, lang):
                state = "translate"
            elif (found := self._fallback(view, reads, policy)) is not None:
                target, tr = found
                state = "translated" if aligned_text(art, view.blocks, policy,
                                                     tr).current else "translate"
            else:
                state = "no_route"
                note_engine = self._missing_engine_hint(orig, lang)
        if state == "translate":  # in the request, within the budget
            client = request.client.host if request.client else "-"
            outcome = await self.ondemand.translate(
                aid, target, client, self.ctx.settings.translate_request_budget)
            state = {"done": "translated", "pending": "in_progress", "full": "queue_full",
                     "failed": "failed"}[outcome]
            if state == "translated":
                tr = self._translation(aid, target)
                if not aligned_text(art, view.blocks, policy, tr).current:
                    state = "failed"
        text = aligned_text(art, view.blocks, policy, tr)
        translated = state == "translated"
        # only a current translation is shown as the article's text
        pairs = [b if translated else AlignedBlock(b.type, b.original, b.original, False)
                 for b in text.blocks]
        title_lang: str | None
        if mode == "original" or state == "reads":
            title, title_lang = art.title, orig
        elif translated and tr is not None:
            title, title_lang = tr.title or art.title, target if tr.title else orig
        else:  # the headline may be translated (at ingest) while the text is not yet
            title, title_lang = view.item.title, view.item.title_language
        ld = {
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": (title or "")[:110], "inLanguage": target if translated else orig,
            "isBasedOn": art.url, "url": str(request.url.replace(query="")),
            "datePublished": art.published_at.isoformat() if art.published_at else None,
            "author": [{"@type": "Person", "name": a} for a in art.authors or []],
            "publisher": {"@type": "Organization", "name": src.name if src else art.site_name},
            "translator": {"@type": "Organization", "name": ", ".join(tr.engines)}
            if translated and tr is not None else None,
        }
        ld_json = json.dumps({k: v for k, v in ld.items() if v is not None},
                             ensure_ascii=False).replace("</", "<\\/")
        common = self._common(request, lang, art.country)
        engine_label = ", ".join(dict.fromkeys(
            e.split()[0].capitalize() for e in (tr.engines if tr is not None else []) if e))
        status_url = ("/api/v1/articles/{}/translation-status?{}".format(
            aid, urlencode({"lang": target})) if state == "in_progress" else None)
        page = self.r.page(
            request, "article.html", lang, view=view, art=art, src=src, tr=tr, state=state,
            target=target, engine_label=engine_label, status_url=status_url,
            refresh_seconds=REFRESH_SECONDS,
            can_translate=state == "reads" and (
                text.current or self.ctx.translator.has_route(orig, lang)),
            mode=mode, blocks=pairs, title=title, title_lang=title_lang, policy=policy,
            similar=similar, notices=notice_blocks(view.blocks), story=story,
            note_engine=note_engine, ld_json=ld_json, slug=slug,
            original_host=urlsplit(art.url).hostname or art.url, **common)
        if state not in STABLE_STATES:  # a transient state is never cached
            page.headers["Cache-Control"] = "no-store"
            return page
        return self._keep(request, page)

    def _missing_engine_hint(self, source: str, target: str) -> str:
        return f"Argos Translate {source}→{target}"

    async def search(self, request: Request) -> Response:
        """/{lang}/search: the search view (views/search.py), built off the event loop."""
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        reads = self.reads(request, lang)
        params = dict(request.query_params)
        status, error = 200, False
        try:
            view = await run_in_threadpool(build_search, self.ctx, lang, params, reads=reads)
        except (BadRequest, QueryError):
            status, error = 400, True
            view = SearchView((params.get("q") or "")[:MAX_QUERY], lang, Filters())
        common = await run_in_threadpool(self._common, request, lang)
        return self.r.page(request, "search.html", lang, status=status, view=view, q=view.q,
                           error=error, items=[h.item for h in view.hits], **common)

    # ------------------------------------------------------------------ preferences

    def _read_choices(self, lang: str) -> list[str]:
        """Languages offered under "Languages I read": the site's and the publishers'."""
        with self.ctx.db.session() as s:
            published = {code for src in reader.sources(s) for code in (src.languages or [])}
        codes = {c for c in (*self.languages, *published) if LANG_CODE.fullmatch(c)}
        codes.discard(lang)
        return sorted(codes, key=lambda c: language_name(c, lang).casefold())

    async def settings(self, request: Request) -> Response:
        """/{lang}/settings: "Languages I read" (a form that works without JavaScript).
        GET shows it; POST stores the choice in a cookie and comes back here."""
        lang = self._lang(request)
        if lang is None:
            return self.not_found(request)
        nxt = request.query_params.get("next") or ""
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin and urlsplit(origin).netloc != request.url.netloc:
                return PlainTextResponse("cross-site form", status_code=403)
            body = (await request.body())[:8192].decode("utf-8", "replace")
            form = parse_qs(body)
            choices = set(self._read_choices(lang))
            picked = [c for c in form.get("reads", []) if c in choices][:MAX_READS]
            nxt = (form.get("next") or [""])[0]
            query = {"saved": "1", **({"next": nxt} if _safe_next(nxt) else {})}
            resp = RedirectResponse(f"/{lang}/settings?{urlencode(query)}", status_code=303)
            if picked:
                resp.set_cookie(READS_COOKIE, ".".join(picked), max_age=COOKIE_AGE,
                                samesite="lax", httponly=True)
            else:
                resp.delete_cookie(READS_COOKIE, samesite="lax", httponly=True)
            return resp
        common = self._common(request, lang)
        return self.r.page(request, "settings.html", lang, choices=self._read_choices(lang),
                           saved=request.query_params.get("saved") == "1",
                           next=nxt if _safe_next(nxt) else "",
                           headers={"Cache-Control": "no-store"}, **common)

    async def switch(self, request: Request) -> Response:
        """The selectors' target (works without JavaScript): remember the choice and go to
        the equivalent page."""
        params = request.query_params
        nxt = params.get("next") or "/"
        if not _safe_next(nxt):
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


def _safe_next(nxt: str) -> bool:
    """A local path to go back to (never another site)."""
    return nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt
