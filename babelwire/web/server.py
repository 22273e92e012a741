"""The `serve` process: the website and the feed scheduler in one event loop."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

from babelwire.config import Settings
from babelwire.context import Context
from babelwire.web.app import create_app


async def serve_async(ctx: Context, *, crawl: bool = True,
                      started: asyncio.Event | None = None) -> None:
    from babelwire.ingest.crawl import crawl_forever

    st = ctx.settings
    app = create_app(ctx)
    config = uvicorn.Config(app, host=st.host, port=st.port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    stop = asyncio.Event()
    crawler = asyncio.create_task(crawl_forever(ctx, stop)) if crawl else None
    for line in reach_summary(ctx):
        print(f"babelwire: {line}", flush=True)
    print(f"Babelwire is serving on http://{st.host}:{st.port}/", flush=True)
    try:
        if started is not None:
            started.set()
        await server.serve()
    finally:
        stop.set()
        if crawler is not None:
            crawler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await crawler
        await ctx.aclose()


def reach_summary(ctx: Context) -> list[str]:
    """Which reader languages the installed engines leave out, and the command that helps
    (`babelwire engines` shows the whole table)."""
    from babelwire.translate import reach

    sources = {lang for s in ctx.catalog.sources for lang in s.languages}
    table = reach.compute(ctx.translator.router, sources, ctx.settings.reader_languages)
    return [*reach.summary_lines(table), "the whole table: babelwire engines -v"]


def serve(settings: Settings, *, crawl: bool = True, ctx: Context | None = None) -> None:
    ctx = ctx or Context.open(settings)
    try:
        asyncio.run(serve_async(ctx, crawl=crawl))
    except KeyboardInterrupt:
        pass
    finally:
        ctx.close()
