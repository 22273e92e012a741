"""The reader website under load: wrk against Babelwire's pages over 1,000 and 100,000
articles in SQLite, beside a minimal Starlette endpoint served the same way in the same run.

Each row gets a fresh uvicorn subprocess on 127.0.0.1 (one worker, like `babelwire
serve`; then two workers, one per core, on a TCP_NODELAY listener: see `serve_workers`),
warmed up, measured under light load (two connections per worker), then loaded with
`wrk -t2 -c64 -dDURATION --latency`. Pages: the article page /en/a/{id}-{slug} of a
non-English article with a full English translation (translated view, with its similar news
from the embedding index and its story's coverage line), and the first page of /en/all.
The stores (benchmarks/_seed.py) carry article vectors of the default embedder and stories,
and each server starts its vector index from the snapshot beside the store; before a page is
measured it is checked to show what a reader gets (similar news on the article page, top
stories on the front page), and the run stops when it does not. Targets:

- all-news p50 latency at 100k articles <= 1.5x its p50 at 1k;
- article page req/s >= 30% of the minimal endpoint's, with p99 <= 50 ms.

When a target fails the slow page is profiled in-process (httpx ASGITransport): time per
store call, SQL statements, and cProfile's top functions.

Usage: python benchmarks/web.py [--duration 20] [--workers 1,2] [--articles 100000]
                                [--small 1000] [--profile]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from babelwire.context import Context

DB_ENV = "BABELWIRE_BENCH_DB"  # the store a server process opens
WRK = shutil.which("wrk") or "/usr/bin/wrk"
LANG = "en"
TARGET_P50_RATIO = 1.5
TARGET_SHARE = 0.30
TARGET_P99_MS = 50.0

# --------------------------------------------------------------------------- the apps
# Factories imported by uvicorn (`--factory web:babelwire_app`) in the server processes.


def build_babelwire(db_path: str) -> tuple[Starlette, Context]:
    """The site over the store at `db_path`, as `babelwire serve` builds it (no crawler,
    no translation engines: nothing runs beside the web), with the default embedder and
    the store's data directory, so the vector index starts from the seeder's snapshot
    instead of each worker building an HNSW graph in the background."""
    import _seed

    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.context import Context
    from babelwire.web.app import create_app

    settings = _seed.store_settings(Path(db_path), engines=(), translate=False,
                                    # the default page cache; BABELWIRE_PAGE_CACHE_SECONDS=0
                                    # measures every request rendered anew
                                    page_cache_seconds=float(os.environ.get(
                                        "BABELWIRE_PAGE_CACHE_SECONDS", "20")))
    ctx = Context.open(settings, catalog=catalog_from_specs(_seed.source_specs()),
                       sync_catalog=False)
    return create_app(ctx), ctx


def babelwire_app() -> Starlette:
    return build_babelwire(os.environ[DB_ENV])[0]


MINIMAL_BODY = ("<!doctype html><html lang=en><head><meta charset=utf-8><title>ok</title>"
                "</head><body><p>Hello, reader.</p></body></html>")


def minimal_app() -> Starlette:
    """The anchor: one endpoint returning a small HTML page."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    async def hello(request: Request) -> Response:
        return HTMLResponse(MINIMAL_BODY)

    return Starlette(routes=[Route("/", hello)])


# --------------------------------------------------------------------------- servers

_LIVE: dict[int, subprocess.Popen[bytes]] = {}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server and its worker processes (its own process group), by id."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    _LIVE.pop(proc.pid, None)


def _stop_all() -> None:
    for proc in list(_LIVE.values()):
        _stop(proc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_workers(factory: str, port: int, workers: int) -> None:
    """uvicorn's multi-worker supervisor, as `uvicorn --workers N` runs it, but on a
    listening socket created with proto=IPPROTO_TCP: uvicorn's own leaves proto at 0, so
    asyncio never sets TCP_NODELAY on accepted connections and every keep-alive response
    waits ~40 ms for a delayed ACK (Kludex/uvicorn#3149; measured here: the minimal
    endpoint's p50 pinned at 44 ms with stock `--workers 2`)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(f"web:{factory}", factory=True, host="127.0.0.1", port=port,
                            workers=workers, log_level="warning", access_log=False,
                            lifespan="off")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


@contextlib.contextmanager
def server(factory: str, *, workers: int, db: Path | None = None,
           ready_path: str = "/", timeout: float = 120.0,
           stock: bool = False) -> Iterator[str]:
    """uvicorn serving `web:<factory>` on a free loopback port; yields its base URL. One
    worker: the stock `uvicorn` command. More: `serve_workers` unless `stock`."""
    import httpx

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH_DIR), str(ROOT)])}
    if db is not None:
        env[DB_ENV] = str(db)
    if workers > 1 and not stock:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", factory,
               "--port", str(port), "--workers", str(workers)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "--factory", f"web:{factory}",
               "--app-dir", str(BENCH_DIR), "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning", "--no-access-log",
               "--lifespan", "off"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    _LIVE[proc.pid] = proc
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{factory} server exited with code {proc.returncode}")
            try:
                if httpx.get(base + ready_path, timeout=10).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{factory} server not ready after {timeout:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        _stop(proc)


# --------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: dict[str, int]


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(value: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if m is None:
        raise ValueError(f"not a wrk duration: {value!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(text: str) -> WrkResult:
    """Requests/s, latency percentiles, error counts from `wrk --latency` output."""
    pct = {p: _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", text, re.M)}
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    total = re.search(r"^\s+(\d+) requests in", text, re.M)
    if rps is None or total is None or len(pct) != 4:
        raise ValueError(f"unexpected wrk output:\n{text}")
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                     text)
    errors = (dict(zip(("connect", "read", "write", "timeout"),
                       (int(x) for x in sock.groups()), strict=True)) if sock else {})
    return WrkResult(float(rps.group(1)), pct["50"], pct["75"], pct["90"], pct["99"],
                     int(total.group(1)), int(non.group(1)) if non else 0, errors)


def run_wrk(url: str, *, duration: float, threads: int = 2, connections: int = 64,
            timeout: float = 30.0, warmup: bool = False) -> WrkResult:
    """One wrk run; fails loudly on non-2xx/3xx answers (and, unless a warm-up, when no
    request completed)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("loopback only")
    cmd = [WRK, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency",
           f"--timeout={timeout:g}s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         timeout=duration + timeout + 30).stdout
    result = parse_wrk(out)
    if result.requests == 0 and not warmup:
        # slower than the run is long: report it (as infinite latency), don't hide it
        print(f"warning: no request to {url} completed in {duration:g} s", file=sys.stderr)
        inf = float("inf")
        result = replace(result, p50_ms=inf, p75_ms=inf, p90_ms=inf, p99_ms=inf)
    if result.non_2xx_3xx:
        raise SystemExit(f"FAILED: {result.non_2xx_3xx} non-2xx/3xx responses from {url}\n"
                         f"{out}")
    return result


# --------------------------------------------------------------------------- the pages


def pick_article(db: Path) -> int:
    """A non-English article with a full English translation, published mid-range (so the
    similar-news window of +-7 days is full)."""
    from sqlalchemy import create_engine, func, select

    from babelwire.store.models import READY, Article, Translation

    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(Article.published_at),
                                     func.max(Article.published_at))).one()
        if lo is None or hi is None:
            raise SystemExit(f"no published article in {db}")
        mid = lo + (hi - lo) / 2
        aid = conn.scalar(
            select(Article.id).join(Translation, Translation.article_id == Article.id)
            .where(Article.status == READY, Article.language != LANG,
                   Translation.language == LANG, Translation.scope == "full",
                   Article.published_at >= mid)
            .order_by(Article.published_at, Article.id).limit(1))
    engine.dispose()
    if aid is None:
        raise SystemExit(f"no translated article in {db}")
    return int(aid)


def article_url(base: str, aid: int) -> tuple[str, int]:
    """The canonical URL of the article (its slug from the /a/{id} redirect), checked to
    render the translated view with similar news and its story; and the number of
    similar-news items shown."""
    import httpx

    r = httpx.get(f"{base}/{LANG}/a/{aid}", timeout=30)
    if r.status_code != 301:
        raise SystemExit(f"/a/{aid} answered {r.status_code}, not a redirect")
    url = base + r.headers["location"]
    page = httpx.get(url, timeout=30)
    if page.status_code != 200 or "Machine-translated from" not in page.text:
        raise SystemExit(f"{url}: {page.status_code}, not the translated view")
    similar = check_similar(url, page.text)
    if 'data-testid="story-link"' not in page.text:
        raise SystemExit(f"FAILED: {url} shows no story coverage link (article without a "
                         "story?)")
    return url, similar


def check_similar(url: str, html: str, minimum: int = 3) -> int:
    """The number of similar-news items on an article page; fails loudly below `minimum`
    (a seeded story has 8 articles on average, within days of each other: its mates come
    first, cosine ~0.7; the page shows 8 items)."""
    items = html.count('data-testid="similar-item"')
    if items < minimum:
        raise SystemExit(f"FAILED: {url} shows {items} similar-news items (wanted >= "
                         f"{minimum}): no vectors in the store, or the index not loaded")
    return items


def check_front(base: str, minimum: int = 3) -> int:
    """The number of top stories on the front page; fails loudly below `minimum`."""
    import httpx

    url = f"{base}/{LANG}/"
    page = httpx.get(url, timeout=60)
    stories = page.text.count('data-testid="story"')
    if page.status_code != 200 or stories < minimum:
        raise SystemExit(f"FAILED: {url}: {page.status_code}, {stories} top stories "
                         f"(wanted >= {minimum}): no stories in the store?")
    return stories


def check_listing(url: str) -> int:
    import httpx

    page = httpx.get(url, timeout=30)
    items = page.text.count('data-testid="news-item"')
    if page.status_code != 200 or items == 0:
        raise SystemExit(f"{url}: {page.status_code}, {items} items")
    return items


# --------------------------------------------------------------------------- profiling


def _timed(fn: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of one call (after one untimed call)."""
    import statistics

    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _sql_key(statement: str) -> str:
    key = " ".join(statement.split())
    return re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", key)[:140]


def _pstats_lines(prof: Any, sort: str, restriction: str | None, top: int) -> list[str]:
    import io
    import pstats

    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats(sort)
    if restriction:
        stats.print_stats(restriction, top)
    else:
        stats.print_stats(top)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    first = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    strip = r"/\S*/site-packages/|/\S*/lib/python3\.\d+/|" + re.escape(str(ROOT)) + "/"
    return [re.sub(strip, "", ln) for ln in lines[first:]]


def profile_page(db: Path, path: str, *, requests: int = 30, top: int = 14) -> str:
    """Where one page's time goes, in-process and one request at a time: the store calls
    the handler makes (timed alone), each SQL statement it runs (re-run with all its rows
    fetched), and cProfile's heaviest functions."""
    import asyncio
    import cProfile
    import io
    import pstats

    import httpx
    from sqlalchemy import event

    from babelwire.similar.news import similar_news
    from babelwire.store import reader

    app, ctx = build_babelwire(str(db))
    out = io.StringIO()

    async def fetch(n: int) -> float:
        """Median milliseconds of one request, after three untimed ones."""
        import statistics

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            for _ in range(3):
                assert (await c.get(path)).status_code == 200
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                r = await c.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.status_code
            return statistics.median(times)

    per_request = asyncio.run(fetch(requests))
    print(f"  {path}: {per_request:.1f} ms per request in-process (median, one at a time)",
          file=out)
    calls: dict[str, Callable[[], object]] = {}
    m = re.match(r"/(\w+)/a/(\d+)-", path)
    repeat = max(3, requests // 3)
    with ctx.db.session() as s:
        calls["reader.countries_with_sources (header, every page)"] = (
            lambda: reader.source_countries(s))
        if m:
            aid = int(m.group(2))
            calls["reader.get_article"] = lambda: reader.get_article(s, aid, LANG)
            calls["similar_news (vector index)"] = lambda: similar_news(ctx, s, aid, LANG)
        else:
            calls["reader.list_articles (30 items)"] = (
                lambda: reader.list_articles(s, lang=LANG, limit=30))
            calls["reader.sources (publisher filter)"] = lambda: reader.sources(s, None)
        parts = {name: _timed(fn, repeat) for name, fn in calls.items()}
    prof = cProfile.Profile()
    prof.enable()
    asyncio.run(fetch(requests))
    prof.disable()
    render = sum(v[3] for k, v in pstats.Stats(prof).stats.items()  # type: ignore[attr-defined]
                 if k[0].endswith("web/render.py") and k[2] == "page")
    parts["Renderer.page: templates (from cProfile)"] = render / (requests + 3) * 1000
    for name, ms in parts.items():
        print(f"    {ms:7.2f} ms  {name}", file=out)
    # every statement of one request, re-run alone with all its rows fetched
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        captured.append((statement, params))

    event.listen(ctx.db.engine, "before_cursor_execute", capture)
    asyncio.run(fetch(1))
    event.remove(ctx.db.engine, "before_cursor_execute", capture)
    per_stmt: dict[str, list[float]] = {}
    first = captured[: len(captured) // 4]  # fetch(1) made 4 requests: keep the first's
    with ctx.db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        for statement, params in first:
            cur = raw.cursor()
            t0 = time.perf_counter()
            for _ in range(repeat):
                rows = cur.execute(statement, params).fetchall()
            ms = (time.perf_counter() - t0) / repeat * 1000  # mean: SQLite's page cache warm
            cur.close()
            entry = per_stmt.setdefault(_sql_key(statement), [0.0, 0.0, 0.0])
            entry[0] += 1
            entry[1] += ms
            entry[2] += len(rows)
    total = sum(v[1] for v in per_stmt.values())
    print(f"  SQL of one request in SQLite, rows fetched: {total:.2f} ms in "
          f"{len(first)} statements", file=out)
    for key, (count, ms, nrows) in sorted(per_stmt.items(), key=lambda kv: -kv[1][1])[:6]:
        print(f"    {ms:7.2f} ms  x{count:.0f} {nrows:5.0f} rows  {key}", file=out)
    print(f"  cProfile over {requests + 3} requests, Babelwire's functions by cumulative "
          "time:", file=out)
    for ln in _pstats_lines(prof, "cumulative", r"babelwire/", top):
        print("    " + ln, file=out)
    print("  ... and all functions by own time:", file=out)
    for ln in _pstats_lines(prof, "tottime", None, top):
        print("    " + ln, file=out)
    ctx.close()
    return out.getvalue()


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Row:
    name: str
    workers: int
    light: WrkResult  # two connections per worker
    result: WrkResult  # the full load (-c64)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    import _seed

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    # whole seconds: wrk rejects a fractional duration ("-d2.5s": usage, exit code 1)
    ap.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    ap.add_argument("--timeout", type=float, default=30.0, help="wrk's request timeout (s)")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of wrk before each")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", default="1,2", help="uvicorn worker counts to run")
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--profile", action="store_true", help="profile even when targets pass")
    ap.add_argument("--stock-workers", action="store_true",
                    help="run N>1 workers with the stock `uvicorn --workers` (no TCP_NODELAY)")
    ap.add_argument("--serve", metavar="FACTORY", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:  # a server process started by `server()`
        serve_workers(args.serve, args.port, int(args.workers))
        return 0
    if not Path(WRK).exists():
        print("skipped: wrk not installed (apt-get install wrk)")
        return 0
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workers = [int(w) for w in args.workers.split(",")]
    print(f"load before: {uptime()}  ({os.cpu_count()} cores)")
    dbs = {}
    for n in (args.small, args.articles):
        info = _seed.cached_db(n)
        how = f"seeded in {info.seconds:.0f} s" if info.seconds else "cached"
        if info.index_seconds:
            how += f", vector index {info.index_seconds:.0f} s"
        print(f"store: {n:,} articles, {info.translated:,} English translations, "
              f"{info.stories:,} stories, vectors of {info.model} ({how}): {info.path}")
        dbs[n] = info.path
    aid = pick_article(dbs[args.articles])

    def load(url: str, workers: int) -> tuple[WrkResult, WrkResult]:
        """(light, heavy): warm up, then two connections per worker (service time and
        capacity without queueing), then the full load. Before each measured run the
        server is left to finish what the previous run left queued (a blocked handler
        doesn't notice that wrk dropped its connection)."""
        import httpx

        light_conns = 2 * workers

        def idle() -> None:
            httpx.get(url, timeout=args.timeout * 4).raise_for_status()  # queued behind it

        if args.warmup:
            run_wrk(url, duration=args.warmup, threads=1, connections=light_conns,
                    timeout=args.timeout, warmup=True)
            idle()
        light = run_wrk(url, duration=max(2, args.duration // 2), threads=1,
                        connections=light_conns, timeout=args.timeout)
        idle()
        heavy = run_wrk(url, duration=args.duration, threads=args.threads,
                        connections=args.connections, timeout=args.timeout)
        return light, heavy

    rows: list[Row] = []
    paths: dict[str, str] = {}
    all_path = f"/{LANG}/all"
    # a fresh server for every row: requests still being computed when wrk stops (it
    # drops its connections; a blocked handler doesn't notice) must not delay the next row
    for w in workers:
        with server("minimal_app", workers=w, stock=args.stock_workers) as base:
            rows.append(Row("minimal Starlette endpoint", w, *load(base + "/", w)))
        with server("babelwire_app", workers=w, db=dbs[args.small],
                    ready_path="/healthz", stock=args.stock_workers) as base:
            check_listing(base + all_path)
            check_front(base)
            rows.append(Row(f"all news, page 1, {args.small:,} articles", w,
                            *load(base + all_path, w)))
        with server("babelwire_app", workers=w, db=dbs[args.articles],
                    ready_path="/healthz", stock=args.stock_workers) as base:
            url, similar = article_url(base, aid)
            front = check_front(base)
            if w == workers[0]:
                print(f"  checked: {url.removeprefix(base)} shows {similar} similar-news "
                      f"items; /{LANG}/ shows {front} top stories", flush=True)
            paths["article"] = url.removeprefix(base)
            rows.append(Row(f"article page, {args.articles:,} articles", w, *load(url, w)))
        with server("babelwire_app", workers=w, db=dbs[args.articles],
                    ready_path="/healthz", stock=args.stock_workers) as base:
            check_listing(base + all_path)
            rows.append(Row(f"all news, page 1, {args.articles:,} articles", w,
                            *load(base + all_path, w)))
        print(f"  done: {w} worker(s)", flush=True)
    print(f"load after:  {uptime()}")
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency, after "
          f"{args.warmup:g} s of warm-up and a light run (-t1, 2 connections per worker, "
          f"{max(2, args.duration // 2):g} s); one fresh uvicorn server per row (asyncio "
          "loop, h11)\n")
    print(f"{'':<38} {'':>7} {'light load':>18} | {f'-c{args.connections}':>42}")
    print(f"{'page':<38} {'workers':>7} {'req/s':>9} {'p50 ms':>8} | {'req/s':>9} "
          f"{'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'requests':>9} {'sock err':>8}")
    for row in rows:
        r, lt = row.result, row.light
        print(f"{row.name:<38} {row.workers:>7} {lt.rps:>9.1f} {lt.p50_ms:>8.2f} | "
              f"{r.rps:>9.1f} {r.p50_ms:>8.2f} {r.p90_ms:>8.2f} {r.p99_ms:>8.2f} "
              f"{r.requests:>9} {sum(r.socket_errors.values()):>8}")
    print()
    failed: set[str] = set()
    for w in workers:
        by = {row.name: row.result for row in rows if row.workers == w}
        minimal = by["minimal Starlette endpoint"]
        small = by[f"all news, page 1, {args.small:,} articles"]
        big = by[f"all news, page 1, {args.articles:,} articles"]
        art = by[f"article page, {args.articles:,} articles"]
        ratio = big.p50_ms / small.p50_ms
        ok = ratio <= TARGET_P50_RATIO
        print(f"[{'PASS' if ok else 'FAIL'}] {w} worker(s): all-news p50 {args.articles:,} / "
              f"{args.small:,} = {big.p50_ms:.1f} / {small.p50_ms:.1f} ms = {ratio:.2f}x "
              f"(target <= {TARGET_P50_RATIO}x)")
        if not ok:
            failed.add("listing")
        share = art.rps / minimal.rps
        ok = share >= TARGET_SHARE and art.p99_ms <= TARGET_P99_MS
        print(f"[{'PASS' if ok else 'FAIL'}] {w} worker(s): article page {art.rps:.0f} req/s = "
              f"{share:.1%} of the minimal endpoint's {minimal.rps:.0f} (target >= "
              f"{TARGET_SHARE:.0%}), p99 {art.p99_ms:.1f} ms (target <= {TARGET_P99_MS:.0f} ms)")
        if not ok:
            failed.add("article")
    for page in sorted(failed | ({"article", "listing"} if args.profile else set())):
        path = paths["article"] if page == "article" else all_path
        print(f"\nprofile of {page} page at {args.articles:,} articles:")
        print(profile_page(dbs[args.articles], path), end="")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
