"""The `serve` process: the website, and the feed scheduler on its own thread and event
loop, so pages never wait behind the crawler (nor the crawler behind pages)."""

from __future__ import annotations

import asyncio
import contextlib
import threading

import uvicorn

from babelwire.config import Settings
from babelwire.context import Context
from babelwire.web.app import create_app


class CrawlerThread:
    """`crawl_forever` on a thread with its own event loop (and its own fetcher)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="babelwire-crawler",
                                        daemon=True)

    def _run(self) -> None:
        from babelwire.ingest.crawl import crawl_forever

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.current_task()
            self._ready.set()
            try:
                await crawl_forever(self.ctx, asyncio.Event())
            finally:
                await self.ctx.aclose()

        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(main())

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already finished
                self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout)


async def serve_async(ctx: Context, *, crawl: bool = True,
                      started: asyncio.Event | None = None) -> None:
    st = ctx.settings
    app = create_app(ctx)
    config = uvicorn.Config(app, host=st.host, port=st.port, log_level="warning",
                            lifespan="off")
    server = uvicorn.Server(config)
    crawler = CrawlerThread(ctx) if crawl else None
    for line in reach_summary(ctx):
        print(f"babelwire: {line}", flush=True)
    if crawler is not None:
        crawler.start()
    print(f"Babelwire is serving on http://{st.host}:{st.port}/", flush=True)
    try:
        if started is not None:
            started.set()
        await server.serve()
    finally:
        if crawler is not None:
            await asyncio.to_thread(crawler.stop)


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
