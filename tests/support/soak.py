"""A soak under faults: `babelwire serve` crawls a faulty loopback newsroom for a while, wrk
loads the site, and a WARC import and an index run beside it; optionally the server is
SIGKILLed and restarted during the run. Afterwards every article is accounted for.

Used by `benchmarks/soak.py` (minutes, printing figures) and `tests/test_soak.py` (CI's
one-minute version, asserting nothing was lost, doubled or answered with a 5xx).

The newsroom's articles are built from the demo newsroom's real paragraphs (bundled with
the package), re-combined at random so that each article is a distinct text in its
publisher's language. Faults are drawn per request from a seeded generator while faults are
on: connection resets, 500/502/503 (with Retry-After), stalls past the crawler's read
timeout, bodies cut short of their Content-Length, garbage bytes and ETag churn on feeds.
A few article URLs are hostile for good (garbage bytes, a body beyond fetch_max_bytes):
those must be recorded with a reason, never stored as articles and never lost silently.
When the run ends, faults are switched off and the crawler is given time to finish
("drain"): a good article still missing then is lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from babelwire.catalog.model import SourceSpec
from babelwire.demo.publishers import load_publishers
from babelwire.ingest import dedup
from babelwire.store.database import Database
from babelwire.store.models import DUPLICATE, FAILED, READY, SKIPPED, Article, Block, Page
from babelwire.web.render import slugify
from tests.support.catalog_files import write_catalog
from tests.support.proctree import TreeRss, tree_rss

WRK = shutil.which("wrk")
ROOT = Path(__file__).resolve().parents[2]

# (site id, language, country) of the newsroom's publishers; one more site is archive-only
SITES = (
    ("soak-harbour", "en", "GB"), ("soak-prairie", "en", "US"), ("soak-meseta", "es", "ES"),
    ("soak-rhone", "fr", "FR"), ("soak-cerrado", "pt", "BR"), ("soak-ter", "ca", "ES"),
    ("soak-volga", "ru", "RU"), ("soak-dnipro", "uk", "UA"),
)
ARCHIVE_SITE = ("soak-archive", "en", "IE")
FEED_ITEMS = 60
HUGE_BYTES = 3_000_000  # above the soak's fetch_max_bytes (2 MB)


# --------------------------------------------------------------------------- content


def _sentences() -> dict[str, list[str]]:
    """Sentences of the demo newsroom's article paragraphs, by language."""
    out: dict[str, list[str]] = {}
    for pub in load_publishers():
        for art in pub.articles:
            for block in art.blocks:
                for sent in re.split(r"(?<=[.!?»\"])\s+(?=[A-ZА-ЯІЇЄÀ-Ý«\"])", block.text):
                    sent = sent.strip()
                    if len(sent.split()) >= 5:
                        out.setdefault(pub.language, []).append(sent)
    return {lang: sorted(set(sents)) for lang, sents in out.items()}


@dataclass(frozen=True)
class SoakArticle:
    site: str
    path: str  # "/site/1234.html"
    language: str
    title: str
    author: str
    paragraphs: tuple[str, ...]
    publish_at: float  # seconds after the newsroom started
    hostile: str | None = None  # "garbage" | "huge": never an article


def _compose(rng: random.Random, pool: list[str], site: str, n: int, lang: str,
             publish_at: float, hostile: str | None) -> SoakArticle:
    picked = rng.sample(pool, rng.randint(9, 14))
    paragraphs = tuple(" ".join(picked[i:i + 3]) for i in range(1, len(picked), 3))
    title = " ".join(picked[0].rstrip(".!?").split()[:12])
    author = rng.choice(("Ana Ruiz", "Tom Hale", "Iryna Koval", "Marc Vidal", "Lea Moreau",
                         "João Lima", "Pavel Orlov", "Nora Quinn"))
    return SoakArticle(site, f"/{site}/{n:05d}.html", lang, f"{title} ({n})", author,
                       paragraphs, publish_at, hostile)


def build_articles(total: int, archive: int, duration: float, seed: int = 7
                   ) -> tuple[list[SoakArticle], list[SoakArticle]]:
    """`total` feed articles over the sites (30% published at once, the rest over the first
    80% of the run; about 1.5% hostile), and `archive` articles for the WARC."""
    rng = random.Random(seed)
    pools = _sentences()
    feed: list[SoakArticle] = []
    for i in range(total):
        site, lang, _ = SITES[i % len(SITES)]
        at = 0.0 if i < total * 0.3 else (i - total * 0.3) / (total * 0.7) * duration * 0.8
        hostile = None
        if i % 67 == 13:
            hostile = "garbage"
        elif i % 131 == 29:
            hostile = "huge"
        feed.append(_compose(rng, pools[lang], site, i, lang, at, hostile))
    site, lang, _ = ARCHIVE_SITE
    arch = [_compose(rng, pools[["en", "es", "fr"][i % 3]], site, i, ["en", "es", "fr"][i % 3],
                     0.0, None) for i in range(archive)]
    return feed, arch


def render_page(base: str, art: SoakArticle) -> bytes:
    e = html.escape
    stamp = (datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=art.publish_at)).isoformat()
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                     "headline": art.title, "datePublished": stamp,
                     "author": {"@type": "Person", "name": art.author}}, ensure_ascii=False)
    paras = "\n".join(f"<p>{e(p)}</p>" for p in art.paragraphs)
    site = art.site
    return f"""<!doctype html>
<html lang="{art.language}"><head><meta charset="utf-8">
<title>{e(art.title)} | {site}</title>
<meta property="og:type" content="article"><meta property="og:title" content="{e(art.title)}">
<meta property="article:published_time" content="{stamp}">
<link rel="canonical" href="{base}{art.path}">
<script type="application/ld+json">{ld}</script></head>
<body><header><a href="/{site}/">{site}</a>
<nav><a href="/{site}/world">World</a> <a href="/{site}/sport">Sport</a>
<a href="/{site}/opinion">Opinion</a></nav></header>
<main><article><h1>{e(art.title)}</h1>
<p class="byline">{e(art.author)}</p><time datetime="{stamp}">{stamp[:10]}</time>
{paras}
</article><aside><h2>Most read</h2><ul><li><a href="/{site}/">Front page</a></li></ul></aside>
</main><footer><p>© {site} — all rights reserved</p></footer></body></html>""".encode()


def write_warc(base: str, articles: list[SoakArticle], out: Path) -> None:
    with out.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for art in articles:
            body = render_page(base, art)
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                base + art.path, "response", payload=io.BytesIO(body), length=len(body),
                http_headers=http))


# --------------------------------------------------------------------------- the newsroom


@dataclass
class Faults:
    """Fault rates per request while on (cumulative bands of one uniform draw)."""

    reset: float = 0.05
    server_error: float = 0.05
    stall: float = 0.03
    truncate: float = 0.04
    garbage_feed: float = 0.05
    stall_seconds: float = 3.0  # past the soak's read timeout
    injected: Counter[str] = field(default_factory=Counter)


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: str, room: FaultyNewsroom) -> None:
        self.room, self.host = room, address
        super().__init__((address, 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (the crawler timed out on a stall)


class FaultyNewsroom:
    """The soak's publishers, each on its own loopback address (127.0.0.2, .3, ...: hosts
    of their own, so the crawler's per-host pacing applies to each as to a real publisher):
    /{site}/feed.xml (RSS, newest 60), /{site}/sitemap-news.xml (every published
    article), /{site}/{n}.html, /robots.txt."""

    def __init__(self, articles: list[SoakArticle], faults: Faults, seed: int = 11) -> None:
        self.articles = {a.path: a for a in articles}
        self.by_site: dict[str, list[SoakArticle]] = {}
        for a in sorted(articles, key=lambda a: a.publish_at):
            self.by_site.setdefault(a.site, []).append(a)
        self.faults = faults
        self.faults_on = True
        self.started = time.monotonic()
        self.frozen_at: float | None = None  # publishing stopped (drain)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        sites = [site for site, _, _ in SITES] + [ARCHIVE_SITE[0]]
        self.servers = {site: _SiteServer(f"127.0.0.{i + 2}", self)
                        for i, site in enumerate(sites)}
        self._threads = [threading.Thread(target=srv.serve_forever, args=(0.1,), daemon=True)
                         for srv in self.servers.values()]

    def base(self, site: str) -> str:
        srv = self.servers[site]
        return f"http://{srv.host}:{srv.server_port}"

    def url(self, art: SoakArticle) -> str:
        return self.base(art.site) + art.path

    def start(self) -> None:
        self.started = time.monotonic()
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        for srv in self.servers.values():
            srv.shutdown()
            srv.server_close()

    def elapsed(self) -> float:
        """Seconds of publishing so far (fixed once frozen)."""
        if self.frozen_at is not None:
            return self.frozen_at
        return time.monotonic() - self.started

    def freeze(self) -> None:
        """Publish everything still due and stop changing (the drain phase)."""
        self.frozen_at = max(self.elapsed(), max(a.publish_at for a in self.articles.values()))

    def published(self) -> list[SoakArticle]:
        now = self.elapsed()
        return [a for a in self.articles.values() if a.publish_at <= now]

    def draw(self) -> float:
        with self._lock:
            return self._rng.random() if self.faults_on else 1.0

    def count(self, kind: str) -> None:
        with self._lock:
            self.faults.injected[kind] += 1


def _rss(base: str, site: str, items: list[SoakArticle]) -> bytes:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    entries = "".join(
        f"<item><title>{html.escape(a.title)}</title><link>{base}{a.path}</link>"
        f"<guid>{base}{a.path}</guid>"
        f"<pubDate>{format_datetime(start + timedelta(seconds=a.publish_at))}</pubDate></item>"
        for a in reversed(items[-FEED_ITEMS:]))
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{site}</title><link>{base}/{site}/</link>{entries}</channel></rss>"
            ).encode()


def _sitemap(base: str, items: list[SoakArticle]) -> bytes:
    urls = "".join(f"<url><loc>{base}{a.path}</loc></url>" for a in items)
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{urls}</urlset>").encode()


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        room = self.server.room
        path = self.path.split("?", 1)[0]
        kind = ("robots" if path == "/robots.txt" else "feed" if path.endswith(".xml")
                else "page")
        with room._lock:
            room.requests[kind] += 1
        r, f = room.draw(), room.faults
        bands = [("reset", f.reset), ("server_error", f.server_error), ("stall", f.stall),
                 ("truncate", f.truncate)]
        if kind == "feed":
            bands.append(("garbage", f.garbage_feed))
        fault, edge = None, 0.0
        for name, rate in bands:
            edge += rate
            if r < edge:
                fault = name
                break
        if fault is not None:
            room.count(f"{kind}:{fault}")
        if fault == "reset":
            self._reset()
            return
        if fault == "server_error":
            status = random.choice((500, 502, 503))
            self._send(status, b"temporarily broken", "text/plain",
                       {"Retry-After": "1"} if status == 503 else {})
            return
        if fault == "stall":
            time.sleep(f.stall_seconds)
        body, ctype, extra = self._content(path)
        if body is None:
            self._send(404, b"not found", "text/plain")
            return
        if fault == "garbage":
            body = random.randbytes(len(body))
        if kind == "feed":
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            if self.headers.get("If-None-Match") == etag and fault is None:
                self._send(304, b"", ctype, {"ETag": etag})
                return
            if r < 0.5:  # ETag churn: a new tag for the same content
                etag = f'"{random.getrandbits(64):x}"'
                room.count("feed:etag_churn")
            extra = {**extra, "ETag": etag}
        if fault == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self._reset()
            return
        self._send(200, body, ctype, extra)

    def _content(self, path: str) -> tuple[bytes | None, str, dict[str, str]]:
        room = self.server.room
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n", "text/plain", {}
        site, _, leaf = path.strip("/").partition("/")
        if leaf in ("feed.xml", "sitemap-news.xml") and site in room.by_site:
            now = room.elapsed()
            items = [a for a in room.by_site[site] if a.publish_at <= now]
            if leaf == "feed.xml":
                return _rss(room.base(site), site, items), "application/rss+xml", {}
            return _sitemap(room.base(site), items), "application/xml", {}
        art = room.articles.get(path)
        if art is None or art.publish_at > room.elapsed() or room.servers.get(art.site) \
                is not self.server:
            return None, "", {}
        if art.hostile == "garbage":
            return random.Random(art.path).randbytes(20_000), "text/html", {}
        if art.hostile == "huge":
            return b"<html><body><p>" + b"x" * HUGE_BYTES + b"</p></body></html>", \
                "text/html", {}
        return render_page(room.base(art.site), art), "text/html; charset=utf-8", {}

    def _send(self, status: int, body: bytes, ctype: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def _reset(self) -> None:
        """Close the connection with a TCP RST."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True


# --------------------------------------------------------------------------- the run


@dataclass
class SoakConfig:
    duration: float = 600.0
    articles: int = 2000
    archive: int = 400
    kills: int = 0
    database_url: str = ""  # empty: SQLite in the work directory
    embedder: str = "none"
    translate: bool = True
    wrk_connections: int = 8
    round_seconds: int = 20
    drain_timeout: float = 300.0
    work_dir: Path | None = None
    log: Any = None  # callable(str) for progress lines


@dataclass
class WrkRound:
    started: float
    requests: int
    p50_ms: float
    p99_ms: float
    status_5xx: int
    status_4xx: int  # other than 429
    socket_errors: int
    limited: int = 0  # 429: past the per-client bound (wrk is one client address)


@dataclass
class SoakReport:
    expected_articles: int = 0
    expected_hostile: int = 0
    archive_records: int = 0
    stored: int = 0
    lost: list[str] = field(default_factory=list)
    marked_duplicate: list[str] = field(default_factory=list)
    hostile_recorded: int = 0
    hostile_stored: list[str] = field(default_factory=list)
    doubled: dict[str, int] = field(default_factory=dict)
    half_written: int = 0
    unexpected_articles: int = 0
    rounds: list[WrkRound] = field(default_factory=list)
    rss: list[tuple[float, TreeRss]] = field(default_factory=list)  # seconds into the run
    sqlite_mib: list[tuple[float, float]] = field(default_factory=list)  # held in serve
    restarts: list[float] = field(default_factory=list)
    side_jobs: dict[str, int] = field(default_factory=dict)  # command -> exit code
    warc_summary: dict[str, Any] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    drain_seconds: float = 0.0
    server_tracebacks: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def site_5xx(self) -> int:
        return sum(r.status_5xx for r in self.rounds)

    @property
    def doubled_total(self) -> int:
        return sum(self.doubled.values())

    def rss_windows(self) -> tuple[TreeRss, TreeRss]:
        """Median RSS of each part over the run's second tenth (once warmed up: the models
        and engines loaded) and over its last tenth."""
        end = max(t for t, _ in self.rss) or 1.0

        def median(lo: float, hi: float) -> TreeRss:
            window = [r for t, r in self.rss if lo <= t <= hi] or [self.rss[-1][1]]
            return TreeRss(*(sorted(part)[len(window) // 2] for part in zip(*window,
                                                                               strict=True)))

        return median(0.1 * end, 0.2 * end), median(0.9 * end, end)

    def p99_ms(self) -> float:
        vals = [r.p99_ms for r in self.rounds if r.requests]
        return max(vals) if vals else float("nan")

    def summary(self) -> str:
        lines = [
            f"articles: {self.expected_articles} published by the newsroom "
            f"(+{self.expected_hostile} hostile URLs) and {self.archive_records} in the WARC",
            f"  stored {self.stored}, lost {len(self.lost)}, wrongly marked duplicate "
            f"{len(self.marked_duplicate)}, doubled {self.doubled_total} {self.doubled}, "
            f"half-written {self.half_written}, unexpected {self.unexpected_articles}",
            f"  hostile URLs recorded with a reason: {self.hostile_recorded} of "
            f"{self.expected_hostile} (stored as articles: {len(self.hostile_stored)})",
            f"  statuses: {self.statuses}",
            f"faults injected: {dict(sorted(self.faults.items()))}",
            f"newsroom requests: {dict(self.requests)}",
        ]
        done = [r for r in self.rounds if r.requests]
        if done:
            reqs = sum(r.requests for r in done)
            p50s = sorted(r.p50_ms for r in done)
            p99s = sorted(r.p99_ms for r in done)
            lines.append(
                f"site under wrk: {reqs} requests in {len(self.rounds)} rounds, 5xx "
                f"{self.site_5xx}, 429 (one client past the per-client bound on search) "
                f"{sum(r.limited for r in done)}, other 4xx {sum(r.status_4xx for r in done)}, "
                f"socket errors "
                f"{sum(r.socket_errors for r in self.rounds)}; p50 median "
                f"{p50s[len(p50s) // 2]:.1f} ms, p99 median {p99s[len(p99s) // 2]:.1f} ms, "
                f"worst round p99 {p99s[-1]:.1f} ms")
        if self.rss:
            early, late = self.rss_windows()
            lines.append(
                f"serve RSS (MiB, Python / engines; median of samples): second tenth of the "
                f"run {early.python:.0f} / {early.engines:.0f}, last tenth "
                f"{late.python:.0f} / {late.engines:.0f}, peak "
                f"{max(r.python for _, r in self.rss):.0f} / "
                f"{max(r.engines for _, r in self.rss):.0f}")
            lines.append(
                f"  of Python: the serve process {early.own:.0f} -> {late.own:.0f}, its "
                f"extraction workers {early.workers:.0f} -> {late.workers:.0f}")
        if self.sqlite_mib:
            lines.append(
                f"  SQLite's memory in the serve process (from /metrics): "
                f"{self.sqlite_mib[0][1]:.0f} MiB at {self.sqlite_mib[0][0]:.0f} s -> "
                f"{self.sqlite_mib[-1][1]:.0f} MiB at {self.sqlite_mib[-1][0]:.0f} s, "
                f"peak {max(m for _, m in self.sqlite_mib):.0f}")
        if self.restarts:
            lines.append("SIGKILLed and restarted at " + ", ".join(
                f"{t:.0f} s" for t in self.restarts))
        warc = {k: v for k, v in self.warc_summary.items()
                if k in ("records", "stored", "duplicates", "not_an_article", "failed")}
        lines.append(f"side jobs (exit codes): {self.side_jobs}; WARC import: {warc}")
        lines.append(f"drain after the run: {self.drain_seconds:.0f} s; tracebacks in the "
                     f"server's log: {self.server_tracebacks}")
        return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(cfg: SoakConfig, work: Path, catalog: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BABELWIRE_")}
    env.update({
        "BABELWIRE_DATABASE_URL": db_url,
        "BABELWIRE_DATA_DIR": str(work / "data"),
        "BABELWIRE_CATALOG_DIR": str(catalog),
        "BABELWIRE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        "BABELWIRE_FETCH_MIN_DELAY": "0.1",
        "BABELWIRE_FETCH_READ_TIMEOUT": "2",
        "BABELWIRE_FETCH_CONNECT_TIMEOUT": "2",
        "BABELWIRE_FETCH_MAX_BYTES": "2000000",
        "BABELWIRE_FEED_MIN_INTERVAL": "3",
        "BABELWIRE_FEED_MAX_INTERVAL": "10",
        "BABELWIRE_EMBEDDER": cfg.embedder,
        "BABELWIRE_TRANSLATE": "1" if cfg.translate else "0",
        "PYTHONUNBUFFERED": "1",
    })
    return env


class _Serve:
    """`babelwire serve` in its own process group (so a SIGKILL takes its workers too)."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 240.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "babelwire.cli", "serve", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=out, start_new_session=True, cwd=ROOT)
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"serve exited with {self.proc.returncode}:\n"
                                       + self.log.read_text(errors="replace")[-3000:])
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"http://127.0.0.1:{self.port}/healthz").status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError("serve not healthy in time")
                time.sleep(0.2)

    def kill(self) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftovers of the group
        return self.proc.returncode


_LUA = """
local paths = {%s}
local threads = {}
local n = 0
function setup(thread) table.insert(threads, thread) end
function init(args) s5 = 0; s4 = 0; s429 = 0; n = math.random(#paths) end
function request() n = n %% #paths + 1; return wrk.format("GET", paths[n]) end
function response(status, headers, body)
  if status >= 500 then s5 = s5 + 1 elseif status == 429 then s429 = s429 + 1
  elseif status >= 400 then s4 = s4 + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s5"); b = b + t:get("s4"); c = c + t:get("s429")
  end
  io.write(string.format("SOAK %%d %%d %%d %%d %%d %%.3f %%.3f\\n", summary.requests, a, b, c,
    summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def _site_paths(db: Database) -> list[str]:
    """What readers ask for: article pages (in English and two other languages), the
    front pages, all news, a story page, search."""
    with db.session() as s:
        rows = list(s.execute(select(Article.id, Article.title, Article.story_id)
                              .where(Article.status == READY)
                              .order_by(Article.id.desc()).limit(400)))
    paths = ["/", "/en/", "/en/all", "/de/", "/es/all", "/en/search?q=government",
             "/es/search?q=gobierno", "/sitemap.xml", "/en/gb/feed.rss"]
    for i, (aid, title, story) in enumerate(rows):
        lang = ("en", "en", "en", "es", "de")[i % 5]
        paths.append(f"/{lang}/a/{aid}-{slugify(title or '') or 'article'}")
        if story is not None and i % 10 == 0:
            paths.append(f"/en/s/{story}")
    return paths


def _wrk_round(port: int, paths: list[str], seconds: int, connections: int, work: Path,
               t0: float) -> WrkRound:
    script = work / "soak.lua"
    script.write_text(_LUA % ", ".join(json.dumps(p) for p in paths))
    started = time.monotonic() - t0
    assert WRK is not None
    out = subprocess.run(
        [WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout=10s", "-s", str(script),
         f"http://127.0.0.1:{port}"], capture_output=True, text=True,
        timeout=seconds + 60).stdout
    m = re.search(r"^SOAK (\d+) (\d+) (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)$", out, re.M)
    if m is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    req, s5, s4, limited, sock = (int(m.group(i)) for i in range(1, 6))
    return WrkRound(started, req, float(m.group(6)), float(m.group(7)), s5, s4, sock, limited)


def run_soak(cfg: SoakConfig) -> SoakReport:
    say = cfg.log or (lambda _line: None)
    own_dir = cfg.work_dir is None
    work = Path(tempfile.mkdtemp(prefix="babelwire-soak-")) if own_dir else cfg.work_dir
    assert work is not None
    work.mkdir(parents=True, exist_ok=True)
    feed_articles, archive = build_articles(cfg.articles, cfg.archive, cfg.duration)
    faults = Faults()
    room = FaultyNewsroom(feed_articles, faults)
    report = SoakReport()
    side: dict[str, subprocess.Popen[bytes]] = {}
    serve: _Serve | None = None
    try:
        room.start()
        sources = [SourceSpec(id=site, name=site.replace("soak-", "").title(),
                              homepage=f"{room.base(site)}/{site}/", country=country,
                              languages=(lang,), feeds=(f"{room.base(site)}/{site}/feed.xml",),
                              sitemaps=(f"{room.base(site)}/{site}/sitemap-news.xml",))
                   for site, lang, country in SITES]
        catalog = write_catalog(sources, work / "catalog")
        db_url = cfg.database_url or f"sqlite:///{work / 'soak.db'}"
        env = _env(cfg, work, catalog, db_url)
        warc = work / "archive.warc.gz"
        write_warc(room.base(ARCHIVE_SITE[0]), archive, warc)
        port = _free_port()
        serve = _Serve(env, port, work / "serve.log")
        say(f"newsroom at {room.base(SITES[0][0])} and up: {len(feed_articles)} articles on "
            f"{len(SITES)} sites; serve on port {port}; work dir {work}")
        serve.start()
        db = Database(db_url)
        t0 = time.monotonic()
        kill_at = [cfg.duration * (k + 1) / (cfg.kills + 1) for k in range(cfg.kills)]
        side_at = {"import-warc": cfg.duration * 0.15}
        if cfg.embedder != "none":  # `index` has nothing to do without an embedder
            side_at["index"] = cfg.duration * 0.45
        stop_sampling = threading.Event()

        def sample() -> None:
            n = 0
            while not stop_sampling.wait(2.0):
                if serve is not None and serve.proc is not None and serve.proc.poll() is None:
                    report.rss.append((time.monotonic() - t0, tree_rss(serve.proc.pid)))
                    n += 1
                    if n % 10 == 1:
                        held = _sqlite_held_mib(serve.port)
                        if held is not None:
                            report.sqlite_mib.append((time.monotonic() - t0, held))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        while (elapsed := time.monotonic() - t0) < cfg.duration:
            for name, at in list(side_at.items()):
                if elapsed >= at:
                    cmd = (["import-warc", str(warc), "--format", "json"]
                           if name == "import-warc" else ["index"])
                    with (work / f"{name}.log").open("wb") as err:  # the child has a copy
                        side[name] = subprocess.Popen(
                            [sys.executable, "-m", "babelwire.cli", *cmd], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=err)
                    say(f"{elapsed:5.0f} s  started `babelwire {' '.join(cmd)}`")
                    del side_at[name]
            if kill_at and elapsed >= kill_at[0]:
                kill_at.pop(0)
                serve.kill()
                report.restarts.append(elapsed)
                say(f"{elapsed:5.0f} s  SIGKILLed serve; restarting")
                serve.start()
            seconds = int(max(2, min(cfg.round_seconds, cfg.duration - elapsed,
                                     (kill_at[0] - elapsed) if kill_at else 1e9)))
            paths = _site_paths(db)
            rnd = _wrk_round(port, paths, seconds, cfg.wrk_connections, work, t0)
            report.rounds.append(rnd)
            say(f"{rnd.started:5.0f} s  wrk {rnd.requests} requests over {len(paths)} paths, "
                f"p50 {rnd.p50_ms:.1f} ms p99 {rnd.p99_ms:.1f} ms, 5xx {rnd.status_5xx}, "
                f"429 {rnd.limited}, other 4xx {rnd.status_4xx}; stored {_count(db, READY)}"
                + (f"; RSS {report.rss[-1][1].python:.0f}/{report.rss[-1][1].engines:.0f} MiB"
                   if report.rss else ""))
        # drain: faults off, nothing new published; let the crawler and the side jobs finish
        room.faults_on = False
        room.freeze()
        drain0 = time.monotonic()
        for name, proc in side.items():
            out, _ = proc.communicate(timeout=cfg.drain_timeout)
            report.side_jobs[name] = proc.returncode
            if name == "import-warc" and proc.returncode == 0:
                with contextlib.suppress(ValueError, IndexError):
                    report.warc_summary = json.loads(out.decode().strip().splitlines()[-1])
        for name in side_at:  # a run too short to start them
            report.side_jobs[name] = -1
        expected = set(_keys(room, [a for a in room.published() if a.hostile is None]))
        expected |= set(_keys(room, archive))
        while time.monotonic() - drain0 < cfg.drain_timeout:
            if _settled(db, expected):
                break
            time.sleep(2.0)
        report.drain_seconds = time.monotonic() - drain0
        stop_sampling.set()
        sampler.join()
        serve.stop()
        serve = None
        _account(report, db, room, archive)
        report.faults = dict(faults.injected)
        report.requests = dict(room.requests)
        report.server_tracebacks = (work / "serve.log").read_text(
            errors="replace").count("Traceback")
        db.engine.dispose()
        return report
    finally:
        for proc in side.values():
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(Exception):
                proc.communicate(timeout=30)  # reaped, its pipe closed
        if serve is not None:
            with contextlib.suppress(Exception):
                serve.stop()
        room.stop()
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)


def _sqlite_held_mib(port: int) -> float | None:
    """What SQLite holds in the serve process, from its /metrics; None when unreadable."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith("babelwire_sqlite_memory_bytes "):
            return float(line.split()[1]) / 2**20
    return None


def _count(db: Database, status: str) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Article)
                        .where(Article.status == status)) or 0


def _settled(db: Database, expected: set[str]) -> bool:
    with db.session() as s:
        done = set(s.scalars(select(Article.url_key).where(Article.status == READY)))
    return expected <= done


def _keys(room: FaultyNewsroom, arts: list[SoakArticle]) -> dict[str, SoakArticle]:
    return {dedup.url_key(dedup.canonicalize_url(room.url(a))): a for a in arts}


def _account(report: SoakReport, db: Database, room: FaultyNewsroom,
             archive: list[SoakArticle]) -> None:
    published = room.published()
    good = _keys(room, [a for a in published if a.hostile is None])
    hostile = _keys(room, [a for a in published if a.hostile is not None])
    arch = _keys(room, archive)
    report.expected_articles = len(good)
    report.expected_hostile = len(hostile)
    report.archive_records = len(arch)
    with db.session() as s:
        rows = list(s.execute(select(Article.id, Article.url_key, Article.status,
                                     Article.error_reason, Article.title,
                                     Article.content_hash)))
        block_counts = dict(s.execute(select(Block.article_id, func.count())
                                      .group_by(Block.article_id)).all())
        page_doubles = s.scalar(select(func.count()).select_from(
            select(Page.article_id).group_by(Page.article_id)
            .having(func.count() > 1).subquery())) or 0
    report.statuses = dict(Counter(r.status for r in rows))
    by_key: dict[str, Any] = {}
    url_doubles = 0
    for r in rows:
        if r.url_key in by_key:
            url_doubles += 1
        by_key[r.url_key] = r
    for key, art in {**good, **arch}.items():
        row = by_key.get(key)
        if row is None or row.status not in (READY, DUPLICATE):
            report.lost.append(f"{art.path} ({row.status if row else 'no row'}"
                               f"{': ' + str(row.error_reason) if row else ''})")
        elif row.status == DUPLICATE:
            report.marked_duplicate.append(art.path)
        else:
            report.stored += 1
            if not row.title or not block_counts.get(row.id):
                report.half_written += 1
    for key, art in hostile.items():
        row = by_key.get(key)
        if row is None:
            report.lost.append(f"{art.path} (hostile, no row)")
        elif row.status in (FAILED, SKIPPED) and row.error_reason:
            report.hostile_recorded += 1
        elif row.status in (READY, DUPLICATE):
            report.hostile_stored.append(art.path)
        else:
            report.lost.append(f"{art.path} (hostile, {row.status})")
    hashes = Counter(r.content_hash for r in rows if r.status == READY and r.content_hash)
    report.doubled = {"article rows per URL": url_doubles,
                      "page rows per article": page_doubles,
                      "same text stored twice": sum(n - 1 for n in hashes.values() if n > 1)}
    known = set(good) | set(hostile) | set(arch)
    report.unexpected_articles = sum(1 for k in by_key if k not in known)


def iter_report_lines(report: SoakReport) -> Iterator[str]:
    yield from report.summary().splitlines()
    for item in report.lost[:20]:
        yield f"  lost: {item}"
