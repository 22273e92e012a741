"""The website. Until the reader's site lands (issue 4), a plain page of the latest
articles and each article's text with its attribution; no pipeline logic here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from babelwire.store.database import Database
from babelwire.store.models import READY, Article, Source

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(default=True),
)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' https: data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def _html(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(name).render(**ctx), status_code=status,
                        headers=SECURITY_HEADERS)


def create_app(db: Database) -> Starlette:
    visible = (Article.status == READY, Source.opt_out.is_(False))

    async def index(request: Request) -> Response:
        with db.session() as s:
            rows = s.execute(
                select(Article, Source).join(Source, Article.source_id == Source.id,
                                             isouter=True)
                .where(Article.status == READY, (Source.opt_out.is_(False))
                       | Article.source_id.is_(None))
                .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
                .limit(100)).all()
            total = s.scalar(select(func.count()).select_from(Article)
                             .where(Article.status == READY)) or 0
        return _html("index.html", rows=rows, total=total)

    async def article(request: Request) -> Response:
        aid = request.path_params["id"]
        with db.session() as s:
            row = s.execute(select(Article, Source).join(Source, isouter=True)
                            .where(Article.id == aid, Article.status == READY)).first()
            if row is None or (row[1] is not None and row[1].opt_out):
                return _html("404.html", status=404)
            art, src = row
            blocks = list(art.blocks)
        return _html("article.html", art=art, src=src, blocks=blocks)

    async def healthz(request: Request) -> Response:
        with db.session() as s:
            n = s.scalar(select(func.count()).select_from(Article).where(*visible[:1]))
        return JSONResponse({"status": "ok", "articles": n})

    return Starlette(routes=[
        Route("/", index),
        Route("/a/{id:int}", article),
        Route("/healthz", healthz),
    ])
