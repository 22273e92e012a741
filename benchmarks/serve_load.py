"""The website while the pipeline works: article-page latency of `serve` idle, then while its
own crawler (on its thread) ingests and indexes a loopback feed of real pages, in one run.

A store is filled first by crawling N real pages (../shared/data) from a loopback feed; then
`serve_async` runs with the crawler on, a second loopback feed of N new pages is published,
and the article page (cache off) is requested by 2 connections over and over: latency p50/p99
before the new feed appears (idle) and while the crawler works through it. Target: p99 under
load within 1.5x of idle. Usage: python benchmarks/serve_load.py [--pages 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.server
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import SHARED, load_pages  # noqa: E402


class Newsroom(http.server.ThreadingHTTPServer):
    """Pages at /p/{i}.html and an RSS feed at /feed.xml listing the first `published`."""
    daemon_threads = True

    def __init__(self, pages: list[bytes]) -> None:
        self.pages, self.published = pages, 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Newsroom

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif self.path == "/feed.xml":
            items = "".join(
                f"<item><title>Story {i}</title><link>{self.server.base}/p/{i}.html</link>"
                f"<pubDate>Wed, 02 Dec 2026 {i % 24:02d}:{i % 60:02d}:00 GMT</pubDate></item>"
                for i in range(self.server.published))
            body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Load</title>'
                    f"<link>{self.server.base}/</link>{items}</channel></rss>").encode()
            ctype = "application/rss+xml"
        elif self.path.startswith("/p/"):
            try:
                body, ctype = self.server.pages[int(self.path[3:].split(".")[0])], "text/html"
            except (ValueError, IndexError):
                self.send_error(404)
                return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _latencies(url: str, seconds: float, stop: threading.Event | None = None) -> list[float]:
    import httpx

    out: list[float] = []
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=30, follow_redirects=True) as c:
            end = time.monotonic() + seconds
            while time.monotonic() < end and not (stop and stop.is_set()):
                t0 = time.perf_counter()
                r = c.get(url)
                dt = time.perf_counter() - t0
                assert r.status_code == 200, r.status_code
                with lock:
                    out.append(dt)

    threads = [threading.Thread(target=client) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100)[int(q) - 1] * 1000 if len(xs) > 2 else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    if not SHARED.exists():
        print(f"skipped: {SHARED} not found")
        return 0
    from sqlalchemy import select

    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.catalog.model import SourceSpec
    from babelwire.config import Settings
    from babelwire.context import Context
    from babelwire.ingest.crawl import crawl_once
    from babelwire.store.models import READY, Article
    from babelwire.web.server import serve_async

    pages = load_pages(2 * args.pages)
    room = Newsroom(pages)
    threading.Thread(target=room.serve_forever, daemon=True).start()
    spec: Any = SourceSpec(id="load", name="Load Gazette", country="GB", languages=("en",),
                           homepage=f"{room.base}/", feeds=(f"{room.base}/feed.xml",))
    with tempfile.TemporaryDirectory() as tmp:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        settings = Settings.load(env={}, data_dir=tmp, fetch_allow_networks=("127.0.0.0/8",),
                                 fetch_min_delay=0.0, translate=False, page_cache_seconds=0.0,
                                 feed_min_interval=1.0, feed_max_interval=2.0, port=port)
        ctx = Context.open(settings, catalog=catalog_from_specs([spec]))
        room.published = args.pages
        t0 = time.perf_counter()
        stats = asyncio.run(crawl_once(ctx))
        print(f"store: {stats.articles['ready']} articles from {args.pages} pages in "
              f"{time.perf_counter() - t0:.0f} s")
        with ctx.db.session() as s:
            aid = s.scalar(select(Article.id).where(Article.status == READY).limit(1))
        url = f"http://127.0.0.1:{port}/en/a/{aid}"
        started = asyncio.Event()
        loop = asyncio.new_event_loop()
        def run_server() -> None:
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(serve_async(ctx, crawl=True, started=started))

        th = threading.Thread(target=run_server, daemon=True)
        th.start()
        while not started.is_set():
            time.sleep(0.1)
        time.sleep(3)
        import httpx

        url = str(httpx.get(url, follow_redirects=True, timeout=30).url)  # the slugged page
        idle = _latencies(url, args.seconds)
        room.published = 2 * args.pages  # new items: the crawler's next poll finds them
        with ctx.db.session() as s:
            before = len(s.scalars(select(Article.id).where(Article.status == READY)).all())
        busy = _latencies(url, args.seconds)
        with ctx.db.session() as s:
            after = len(s.scalars(select(Article.id).where(Article.status == READY)).all())
        print(f"article page idle:        p50 {_pct(idle, 50):6.1f} ms  p99 {_pct(idle, 99):6.1f}"
              f" ms  ({len(idle)} requests)")
        print(f"while crawling+indexing:  p50 {_pct(busy, 50):6.1f} ms  p99 {_pct(busy, 99):6.1f}"
              f" ms  ({len(busy)} requests; {after - before} articles stored meanwhile)")
        print(f"p99 ratio: {_pct(busy, 99) / _pct(idle, 99):.2f}x (target <= 1.5x)")
        loop.call_soon_threadsafe(lambda: [t.cancel() for t in asyncio.all_tasks(loop)])
        th.join(30)
        ctx.close()
    room.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
