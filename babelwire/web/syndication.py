"""Atom and RSS feeds of a country's news in the reader's language, and the sitemap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from babelwire.context import Context
from babelwire.store import reader, sitemap
from babelwire.web import i18n
from babelwire.web.render import slugify

FEED_ITEMS = 50
SITEMAP_URLS = 50_000  # per sitemap file (the protocol's limit)


def _page_url(base: str, lang: str, item: reader.Item) -> str:
    return f"{base}/{lang}/a/{item.id}-{slugify(item.title) or 'article'}"


def atom(base: str, lang: str, country: str, items: list[reader.Item], title: str) -> str:
    updated = (items[0].published if items else datetime.now(UTC)).isoformat()
    self_url = f"{base}/{lang}/{country}/feed.atom"
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(lang)}>',
           f"<title>{escape(title)}</title>", f"<id>{escape(self_url)}</id>",
           f'<link rel="self" href={quoteattr(self_url)}/>',
           '<link rel="alternate" type="text/html" '
           f'href={quoteattr(f"{base}/{lang}/{country}/")}/>',
           f"<updated>{updated}</updated>"]
    for it in items:
        page = _page_url(base, lang, it)
        out += ["<entry>", f"<id>{escape(page)}</id>",
                f"<title xml:lang={quoteattr(it.title_language or '')}>{escape(it.title)}</title>",
                f'<link rel="alternate" type="text/html" href={quoteattr(page)}/>',
                f'<link rel="via" href={quoteattr(it.url)}/>',
                f"<updated>{it.published.isoformat()}</updated>",
                f"<published>{it.published.isoformat()}</published>",
                f"<author><name>{escape(it.source_name or '')}</name></author>"]
        if it.summary:
            out.append(f"<summary>{escape(it.summary)}</summary>")
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out) + "\n"


def rss(base: str, lang: str, country: str, items: list[reader.Item], title: str) -> str:
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>',
           f"<title>{escape(title)}</title>", f"<link>{escape(f'{base}/{lang}/{country}/')}</link>",
           f"<description>{escape(title)}</description>", f"<language>{escape(lang)}</language>",
           f'<atom:link rel="self" type="application/rss+xml" '
           f'href={quoteattr(f"{base}/{lang}/{country}/feed.rss")}/>']
    for it in items:
        page = _page_url(base, lang, it)
        out += ["<item>", f"<title>{escape(it.title)}</title>", f"<link>{escape(page)}</link>",
                f'<guid isPermaLink="true">{escape(page)}</guid>',
                f"<pubDate>{format_datetime(it.published)}</pubDate>",
                f"<source url={quoteattr(it.url)}>{escape(it.source_name or '')}</source>"]
        if it.summary:
            out.append(f"<description>{escape(it.summary)}</description>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out) + "\n"


class Syndication:
    def __init__(self, ctx: Context, languages: tuple[str, ...]) -> None:
        self.ctx = ctx
        self.languages = languages

    def _items(self, lang: str, country: str) -> list[reader.Item] | None:
        with self.ctx.db.session() as s:
            if country not in reader.source_countries(s):
                return None
            return reader.list_articles(s, lang=lang, country=country, limit=FEED_ITEMS)[0]

    async def feed(self, request: Request) -> Response:
        lang = request.path_params["lang"]
        country = request.path_params["country"].upper()
        kind = request.path_params["kind"]
        if lang not in self.languages or kind not in ("atom", "rss") or len(country) != 2:
            return Response("not found", status_code=404, media_type="text/plain")
        items = await run_in_threadpool(self._items, lang, country)
        if items is None:
            return Response("not found", status_code=404, media_type="text/plain")
        base = str(request.base_url).rstrip("/")
        title = f"Babelwire — {i18n.country_name(country, lang)}"
        if kind == "atom":
            return Response(atom(base, lang, country, items, title),
                            media_type="application/atom+xml; charset=utf-8")
        return Response(rss(base, lang, country, items, title),
                        media_type="application/rss+xml; charset=utf-8")

    async def sitemap(self, request: Request) -> Response:
        """/sitemap.xml: a sitemap index over paged sitemaps (?page=0: the front pages;
        ?page=N: the articles with ids in the N-th block of SITEMAP_URLS), streamed."""
        base = str(request.base_url).rstrip("/")
        page = request.query_params.get("page")
        if page is None:
            top = await run_in_threadpool(sitemap.max_article_id, self.ctx.db.engine)
            pages = range(0, -(-top // SITEMAP_URLS) + 1)
            return StreamingResponse(self._index(base, pages), media_type="application/xml")
        if not page.isdigit() or len(page) > 9:
            return Response("not found", status_code=404, media_type="text/plain")
        return StreamingResponse(self._urlset(base, int(page)), media_type="application/xml")

    @staticmethod
    def _index(base: str, pages: range) -> Iterator[str]:
        yield ('<?xml version="1.0" encoding="utf-8"?>\n'
               '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
        for n in pages:
            yield f"<sitemap><loc>{escape(f'{base}/sitemap.xml?page={n}')}</loc></sitemap>\n"
        yield "</sitemapindex>\n"

    def _urlset(self, base: str, page: int) -> Iterator[str]:
        """A sync generator: Starlette runs each step in its thread pool."""
        yield ('<?xml version="1.0" encoding="utf-8"?>\n'
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
        lang = self.languages[0]
        if page == 0:
            for code in self.languages:
                yield f"<url><loc>{escape(f'{base}/{code}/')}</loc></url>\n"
        else:
            first = (page - 1) * SITEMAP_URLS + 1
            out: list[str] = []
            for aid, published in sitemap.visible_in_range(
                    self.ctx.db.engine, first, first + SITEMAP_URLS - 1):
                lastmod = f"<lastmod>{published.date().isoformat()}</lastmod>" \
                    if published else ""
                out.append(f"<url><loc>{escape(f'{base}/{lang}/a/{aid}')}</loc>{lastmod}"
                           "</url>\n")
                if len(out) >= 1000:
                    yield "".join(out)
                    out.clear()
            yield "".join(out)
        yield "</urlset>\n"
