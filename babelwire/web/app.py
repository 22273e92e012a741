"""The website: routes, static files, security headers. Handlers live in pages.py (HTML),
syndication.py (feeds, sitemap) and api.py (JSON)."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from babelwire import metrics
from babelwire.context import Context
from babelwire.metrics import StoreCollector
from babelwire.store.models import READY, Article
from babelwire.web.api import create_api
from babelwire.web.i18n import I18n
from babelwire.web.limits import ClientLimits, Limit
from babelwire.web.ondemand import OnDemand
from babelwire.web.pages import Pages
from babelwire.web.render import SECURITY_HEADERS, Renderer
from babelwire.web.syndication import Syndication

STATIC_DIR = Path(__file__).with_name("static")


class SecurityHeaders:
    """Adds the security headers to every response that lacks them (a plain ASGI
    middleware: Starlette's BaseHTTPMiddleware halves the throughput of small responses)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Timing:
    """Page latency into the Prometheus histogram, by endpoint (a plain ASGI middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = [500]

        async def send_timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", None) or "unmatched"
            metrics.PAGE_SECONDS.labels(route, scope.get("method", ""), str(status[0])
                                        ).observe(time.perf_counter() - t0)


def create_app(ctx: Context, *, ondemand: OnDemand | None = None) -> Starlette:
    """The site over `ctx`; `ondemand` replaces the on-demand translation queue built from
    the settings (tests pass one with their own translate function)."""
    languages = tuple(ctx.settings.reader_languages)
    renderer = Renderer(I18n(languages), languages)
    ondemand = ondemand or OnDemand(ctx, max_pending=ctx.settings.translate_queue_size,
                                    per_client=ctx.settings.translate_request_per_client)
    pages = Pages(ctx, renderer, ondemand)
    syndication = Syndication(ctx, languages)

    def ready_articles() -> int | None:
        with ctx.db.session() as s:
            return s.scalar(select(func.count()).select_from(Article)
                            .where(Article.status == READY))

    async def healthz(request: Request) -> Response:
        n = await run_in_threadpool(ready_articles)  # off the event loop
        return JSONResponse({"status": "ok", "articles": n})

    store_metrics = CollectorRegistry()
    store_metrics.register(StoreCollector(ctx))

    def prometheus(request: Request) -> Response:  # sync: Starlette runs it in a thread
        body = generate_latest(REGISTRY) + generate_latest(store_metrics)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/", pages.root),
        Route("/healthz", healthz),
        Route("/metrics", prometheus),
        Route("/robots.txt", pages.robots),
        Route("/sitemap.xml", syndication.sitemap),
        Route("/switch", pages.switch),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        Mount("/api/v1", create_api(ctx, languages, ondemand)),
        Route("/{lang}/", pages.front),
        Route("/{lang}", pages.front),
        Route("/{lang}/all", pages.listing),
        Route("/{lang}/search", pages.search),
        Route("/{lang}/settings", pages.settings, methods=["GET", "HEAD", "POST"]),
        Route("/{lang}/a/{id:int}", pages.article_redirect),
        Route("/{lang}/a/{id:int}-{slug}", pages.article),
        Route("/{lang}/s/{id:int}", pages.story),
        Route("/{lang}/{country}/feed.{kind}", syndication.feed),
        Route("/{lang}/{country}/", pages.listing),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return await pages.not_found(request)

    st = ctx.settings
    limits = Middleware(ClientLimits,
                        search=Limit(st.client_search_rate, st.client_search_burst),
                        pages=Limit(st.client_pages_rate, st.client_pages_burst))
    app = Starlette(routes=routes, middleware=[Middleware(Timing), Middleware(SecurityHeaders),
                                               limits],
                    exception_handlers={404: not_found})
    app.state.ondemand = ondemand
    app.state.pages = pages
    return app
