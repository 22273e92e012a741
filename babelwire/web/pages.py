"""The reader's pages. Handlers read through store/reader.py and render templates; the only
pipeline call is an on-demand translation (web/ondemand.py), waited for in the request for
a short budget, then left to finish in the background."""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from babelwire.context import Context
from babelwire.store import reader
from babelwire.store.search import Filters, QueryError
from babelwire.translate.articles import notice_blocks
from babelwire.web.cache import TTLCache
from babelwire.web.i18n import language_name
from babelwire.web.ondemand import OnDemand
from babelwire.web.render import Renderer, slugify
from babelwire.web.views.article import MODES, after_wait, load_article, page_values
from babelwire.web.views.front import build_front
from babelwire.web.views.listing import ListingFilters, build_listing
from babelwire.web.views.search import BadRequest, SearchView, build_search
from babelwire.web.views.story import build_story

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

    def _common(self, request: Request, lang: str, country: str | None = None,
                countries: list[str] | None = None) -> dict[str, Any]:
        """What every page's frame shows; `countries` from the view's own read, else read
        here (call it in a thread)."""
        if countries is None:
            with self.ctx.db.session() as s:
                countries = reader.source_countries(s)
        return {"countries": countries, "country": country,
                "reads": self.reads(request, lang)}

    async def not_found(self, request: Request, lang: str | None = None) -> Response:
        lang = lang or self._preferred(request)
        common = await run_in_threadpool(self._common, request, lang)
        return self.r.page(request, "404.html", lang, status=404, **common)

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
            return await self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        reads = self.reads(request, lang)
        front = await run_in_threadpool(build_front, self.ctx, lang, reads)
        common = self._common(request, lang, countries=front.countries)
        return self._keep(request, self.r.page(
            request, "front.html", lang, top=front.top, latest=front.latest,
            sections=front.sections, **common))

    async def story(self, request: Request) -> Response:
        """/{lang}/s/{id}: a story's full coverage, grouped by country."""
        lang = self._lang(request)
        if lang is None:
            return await self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        reads = self.reads(request, lang)
        story = await run_in_threadpool(build_story, self.ctx, request.path_params["id"],
                                        lang, reads, with_countries=True)
        if story.merged_into is not None:
            return RedirectResponse(f"/{lang}/s/{story.merged_into}", status_code=301)
        if story.coverage is None:
            return await self.not_found(request, lang)
        common = self._common(request, lang, countries=story.countries)
        return self._keep(request, self.r.page(request, "story.html", lang,
                                               cov=story.coverage, **common))

    async def listing(self, request: Request) -> Response:
        """/{lang}/all and /{lang}/{country}/ (with filters and keyset pagination)."""
        lang = self._lang(request)
        if lang is None:
            return await self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        country = request.path_params.get("country")
        if country is not None:
            country = country.upper()
            if len(country) != 2 or not country.isalpha():
                return await self.not_found(request, lang)
        params = request.query_params
        filters = ListingFilters(
            country=country or (params.get("country") or "").upper()[:2] or None,
            source=(params.get("source") or "")[:80] or None,
            original=(params.get("original") or "")[:10] or None)
        listing = await run_in_threadpool(
            build_listing, self.ctx, lang, filters, cursor=params.get("cursor"),
            reads=self.reads(request, lang), with_choices=True)
        if country and country not in listing.countries:
            return await self.not_found(request, lang)
        common = self._common(request, lang, country, countries=listing.countries)
        return self._keep(request, self.r.page(
            request, "listing.html", lang, items=listing.items,
            next_cursor=listing.next_cursor, sources=listing.sources,
            filters={"country": filters.country, "source": filters.source,
                     "original": filters.original},
            page_country=country, **common))

    async def article_redirect(self, request: Request) -> Response:
        lang = self._lang(request)
        if lang is None:
            return await self.not_found(request)
        aid = request.path_params["id"]
        model = await run_in_threadpool(load_article, self.ctx, aid, lang, related=False)
        if model is None:
            return await self.not_found(request, lang)
        slug = slugify(model.view.item.title) or "article"
        mode = request.query_params.get("view")
        suffix = f"?view={mode}" if mode in MODES else ""
        return RedirectResponse(f"/{lang}/a/{aid}-{slug}{suffix}", status_code=301)

    async def article(self, request: Request) -> Response:
        """The article page: its model is loaded in a thread (views/article.py); only the
        wait for an on-demand translation happens here, within the request's budget."""
        lang = self._lang(request)
        if lang is None:
            return await self.not_found(request)
        cached = self._cached(request)
        if cached is not None:
            return cached
        aid = request.path_params["id"]
        asked_view = request.query_params.get("view")
        mode = asked_view if asked_view in MODES else "translated"
        reads = self.reads(request, lang)
        model = await run_in_threadpool(
            partial(load_article, self.ctx, aid, lang, reads=reads, asked_view=asked_view,
                    similar_cache=self.similar))
        if model is None:
            return await self.not_found(request, lang)
        art = model.view.article
        slug = slugify(model.view.item.title) or "article"
        if request.path_params.get("slug") != slug:
            return RedirectResponse(f"/{lang}/a/{aid}-{slug}" + (
                f"?view={mode}" if asked_view == mode else ""), status_code=301)
        if model.state == "translate":  # in the request, within the budget
            client = request.client.host if request.client else "-"
            outcome = await self.ondemand.translate(
                aid, model.target, client, self.ctx.settings.translate_request_budget)
            model = await run_in_threadpool(after_wait, self.ctx, model, outcome)
        state = model.state
        values = page_values(self.ctx, model, lang, mode, str(request.url.replace(query="")))
        common = self._common(request, lang, art.country, countries=model.countries)
        status_url = ("/api/v1/articles/{}/translation-status?{}".format(
            aid, urlencode({"lang": model.target})) if state == "in_progress" else None)
        src = model.view.source
        page = self.r.page(
            request, "article.html", lang, view=model.view, art=art, src=src,
            tr=model.translation, state=state, target=model.target, status_url=status_url,
            refresh_seconds=REFRESH_SECONDS, mode=mode, policy=model.policy,
            similar=model.similar, notices=notice_blocks(model.view.blocks),
            story=model.story, note_engine=model.note_engine, slug=slug,
            original_host=urlsplit(art.url).hostname or art.url, **values, **common)
        if state not in STABLE_STATES:  # a transient state is never cached
            page.headers["Cache-Control"] = "no-store"
            return page
        return self._keep(request, page)

    async def search(self, request: Request) -> Response:
        """/{lang}/search: the search view (views/search.py), built off the event loop."""
        lang = self._lang(request)
        if lang is None:
            return await self.not_found(request)
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
            return await self.not_found(request)
        nxt = request.query_params.get("next") or ""
        if request.method == "POST":
            origin = request.headers.get("origin")
            if origin and urlsplit(origin).netloc != request.url.netloc:
                return PlainTextResponse("cross-site form", status_code=403)
            body = (await request.body())[:8192].decode("utf-8", "replace")
            form = parse_qs(body)
            offered: list[str] = await run_in_threadpool(self._read_choices, lang)
            choices = set(offered)
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
        common = await run_in_threadpool(self._common, request, lang)
        shown: list[str] = await run_in_threadpool(self._read_choices, lang)
        return self.r.page(request, "settings.html", lang, choices=shown,
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
