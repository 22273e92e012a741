"""The website: routes, static files, security headers. Handlers live in pages.py (HTML),
syndication.py (feeds, sitemap) and api.py (JSON)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from babelwire.context import Context
from babelwire.store.models import READY, Article
from babelwire.web.api import create_api
from babelwire.web.i18n import I18n
from babelwire.web.ondemand import OnDemand
from babelwire.web.pages import Pages
from babelwire.web.render import SECURITY_HEADERS, Renderer
from babelwire.web.syndication import Syndication

STATIC_DIR = Path(__file__).with_name("static")


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(ctx: Context) -> Starlette:
    languages = tuple(ctx.settings.reader_languages)
    renderer = Renderer(I18n(languages), languages)
    ondemand = OnDemand(ctx)
    pages = Pages(ctx, renderer, ondemand)
    syndication = Syndication(ctx, languages)

    async def healthz(request: Request) -> Response:
        with ctx.db.session() as s:
            n = s.scalar(select(func.count()).select_from(Article)
                         .where(Article.status == READY))
        return JSONResponse({"status": "ok", "articles": n})

    routes = [
        Route("/", pages.root),
        Route("/healthz", healthz),
        Route("/robots.txt", pages.robots),
        Route("/sitemap.xml", syndication.sitemap),
        Route("/switch", pages.switch),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        Mount("/api/v1", create_api(ctx, languages)),
        Route("/{lang}/", pages.front),
        Route("/{lang}", pages.front),
        Route("/{lang}/all", pages.listing),
        Route("/{lang}/search", pages.search),
        Route("/{lang}/a/{id:int}", pages.article_redirect),
        Route("/{lang}/a/{id:int}-{slug}", pages.article),
        Route("/{lang}/{country}/feed.{kind}", syndication.feed),
        Route("/{lang}/{country}/", pages.listing),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return pages.not_found(request)

    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={404: not_found})
    app.state.ondemand = ondemand
    return app
