"""The fetcher against real HTTP servers on 127.0.0.1, including hostile ones.

Every test that connects goes to a `LoopbackServer`; the `no_outside_traffic` tripwire fails
any attempt to dial a non-loopback address, so a broken SSRF guard cannot leak traffic.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import ipaddress
import itertools
import socket
import struct
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest

from babelwire.config import Settings
from babelwire.ingest.fetch import Fetcher, FetchError, FetchResult
from babelwire.ingest.netguard import AddressGuard, BlockedAddressError, blocked_reason
from babelwire.ingest.robots import RobotsPolicy, parse_robots
from tests.support.httpserver import LoopbackServer, RecordedRequest, Reply, replies

T = TypeVar("T")
HTML = b"<!doctype html><html><head><title>t</title></head><body><p>Hello</p></body></html>"
RSS = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>x</title>'
       b"</channel></rss>")
TOLERANCE = 0.05  # server-side timestamps may lag the client's by connection set-up


# --- fixtures and helpers ------------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_outside_traffic(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse (and record) any TCP connection to a non-loopback address."""
    attempts: list[str] = []
    real = anyio.connect_tcp

    async def guarded(remote_host: Any, remote_port: int, **kwargs: Any) -> Any:
        if not ipaddress.ip_address(str(remote_host)).is_loopback:
            attempts.append(f"{remote_host}:{remote_port}")
            raise OSError(f"test tripwire: connection to {remote_host} refused")
        return await real(remote_host, remote_port, **kwargs)

    monkeypatch.setattr(anyio, "connect_tcp", guarded)
    yield attempts
    assert attempts == [], f"connections to outside addresses were attempted: {attempts}"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv
    assert srv.errors == []


def make_settings(tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": str(tmp_path),
        "fetch_allow_networks": ("127.0.0.0/8",),
        "fetch_min_delay": 0.05,
        "fetch_connect_timeout": 2.0,
        "fetch_read_timeout": 2.0,
        "fetch_retries": 2,
        "fetch_max_retry_after": 5.0,
        "fetch_max_bytes": 100_000,
        "robots_cache_ttl": 3600.0,
    }
    values.update(changes)
    return Settings.load(env={}, **values)


def run(settings: Settings, body: Callable[[Fetcher], Awaitable[T]], **kwargs: Any) -> T:
    """Run `body(fetcher)` in a fresh event loop with a fetcher that is closed afterwards."""
    async def main() -> T:
        async with Fetcher(settings, backoff_base=0.01, **kwargs) as fetcher:
            return await body(fetcher)

    return asyncio.run(main())


def fetch_error(settings: Settings, url: str, **kwargs: Any) -> FetchError:
    fetcher_kwargs = {k: kwargs.pop(k) for k in ("resolver", "transport") if k in kwargs}

    async def body(f: Fetcher) -> FetchError:
        with pytest.raises(FetchError) as info:
            await f.fetch(url, **kwargs)
        return info.value

    return run(settings, body, **fetcher_kwargs)


def fake_dns(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, f"unknown test host {host}")
        return table[host]

    return resolve


def starts(server: LoopbackServer, path: str | None = None) -> list[float]:
    return [r.started for r in server.requests(path)]


# --- ordinary fetching ---------------------------------------------------------------------

def test_fetch_returns_page_and_identifies_itself(tmp_path: Path,
                                                  server: LoopbackServer) -> None:
    settings = make_settings(tmp_path)
    server.route("/page", Reply(body=HTML, headers={"ETag": '"e1"'}))
    res = run(settings, lambda f: f.fetch(server.url("/page"), accept="html"))

    assert isinstance(res, FetchResult)
    assert (res.status, res.content, res.url) == (200, HTML, server.url("/page"))
    assert (res.content_type, res.charset, res.etag) == ("text/html", "utf-8", '"e1"')
    assert res.not_modified is False and res.redirects == ()
    assert res.fetched_at.tzinfo is not None and res.fetched_at.utcoffset() == timedelta(0)
    assert res.headers["content-type"] == res.headers["Content-Type"]
    assert "Hello" in res.text()
    assert server.paths() == ["/robots.txt", "/page"]
    for req in server.requests():
        ua = req.header("user-agent") or ""
        assert ua == settings.user_agent
        assert "Babelwire" in ua and settings.contact_url in ua
    [page] = server.requests("/page")
    assert "text/html" in (page.header("accept") or "")
    assert "gzip" in (page.header("accept-encoding") or "")


def test_host_names_connect_to_the_checked_address(tmp_path: Path,
                                                   server: LoopbackServer) -> None:
    """`news.example` exists only in the injected resolver: reaching the server proves the
    connection goes to the address the guard checked, not to a second DNS lookup."""
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    server.route("/a", Reply(body=HTML))
    url = f"http://news.example:{server.port}/a"
    res = run(make_settings(tmp_path), lambda f: f.fetch(url), resolver=resolver)
    assert res.content == HTML
    [req] = server.requests("/a")
    assert req.header("host") == f"news.example:{server.port}"
    assert set(asked) == {"news.example"}


def test_accept_headers_follow_the_kind(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/f", Reply(body=RSS, content_type="application/rss+xml"))
    run(make_settings(tmp_path), lambda f: f.fetch(server.url("/f"), accept="feed"))
    accept = server.requests("/f")[0].header("accept") or ""
    assert "application/rss+xml" in accept and "application/atom+xml" in accept


def test_conditional_get_returns_not_modified(tmp_path: Path, server: LoopbackServer) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"

    def handler(req: RecordedRequest) -> Reply:
        if req.header("if-none-match") == '"v1"':
            return Reply(304, content_type=None, headers={"ETag": '"v1"'})
        return Reply(body=RSS, content_type="application/rss+xml",
                     headers={"ETag": '"v1"', "Last-Modified": stamp})

    server.route("/feed", handler)

    async def body(f: Fetcher) -> tuple[FetchResult, FetchResult]:
        first = await f.fetch(server.url("/feed"), accept="feed")
        second = await f.fetch(server.url("/feed"), etag=first.etag,
                               last_modified=first.last_modified, accept="feed")
        return first, second

    first, second = run(make_settings(tmp_path), body)
    assert (first.status, first.etag, first.last_modified) == (200, '"v1"', stamp)
    assert first.content == RSS and not first.not_modified
    assert (second.status, second.not_modified, second.content) == (304, True, b"")
    plain, conditional = server.requests("/feed")
    assert plain.header("if-none-match") is None
    assert conditional.header("if-none-match") == '"v1"'
    assert conditional.header("if-modified-since") == stamp


# --- robots.txt ----------------------------------------------------------------------------

def test_robots_disallow_is_never_requested(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /private\n",
                                      content_type="text/plain"))
    server.route("/private/x", Reply(body=HTML))
    server.route("/public", Reply(body=HTML))

    async def body(f: Fetcher) -> FetchError:
        with pytest.raises(FetchError) as info:
            await f.fetch(server.url("/private/x"))
        await f.fetch(server.url("/public"))
        return info.value

    err = run(make_settings(tmp_path), body)
    assert err.reason == "robots_disallowed"
    assert str(err) == "robots.txt of 127.0.0.1 disallows /private/x"
    assert server.paths() == ["/robots.txt", "/public"]  # robots.txt fetched once, cached


def test_robots_group_for_our_product_token_wins(tmp_path: Path,
                                                 server: LoopbackServer) -> None:
    server.route("/robots.txt", Reply(
        body="User-agent: *\nDisallow:\n\nUser-agent: babelwire/2.0\nDisallow: /news/\n",
        content_type="text/plain"))
    server.route("/other", Reply(body=HTML))
    settings = make_settings(tmp_path)
    assert fetch_error(settings, server.url("/news/a")).reason == "robots_disallowed"
    assert run(settings, lambda f: f.fetch(server.url("/other"))).status == 200


@pytest.mark.parametrize(("status", "allowed"), [
    (404, True), (410, True), (401, False), (403, False), (500, False), (503, False)])
def test_robots_status_decides(tmp_path: Path, server: LoopbackServer, status: int,
                               allowed: bool) -> None:
    server.route("/robots.txt", Reply(status, body="nope", content_type="text/plain"))
    server.route("/page", Reply(body=HTML))
    settings = make_settings(tmp_path, fetch_retries=0)
    if allowed:
        assert run(settings, lambda f: f.fetch(server.url("/page"))).status == 200
        assert server.paths() == ["/robots.txt", "/page"]
    else:
        err = fetch_error(settings, server.url("/page"))
        assert err.reason == "robots_disallowed" and f"HTTP {status}" in str(err)
        assert (err.retry_after is not None) == (status >= 500)  # 5xx: only for now
        assert server.paths() == ["/robots.txt"]


def test_a_robots_blip_is_retried_in_line(tmp_path: Path, server: LoopbackServer) -> None:
    """One 5xx from robots.txt must not close the host: it is retried like any fetch."""
    server.route("/robots.txt", replies(Reply(503), Reply(404)))
    server.route("/page", Reply(body=HTML))
    settings = make_settings(tmp_path, fetch_retries=2)
    assert run(settings, lambda f: f.fetch(server.url("/page"))).status == 200
    assert server.paths() == ["/robots.txt", "/robots.txt", "/page"]


def test_unreachable_robots_is_retried_soon(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/robots.txt", replies(Reply(503), Reply(503), Reply(404)))
    server.route("/page", Reply(body=HTML))
    settings = make_settings(tmp_path, robots_cache_ttl=0.3, fetch_retries=1)

    async def body(f: Fetcher) -> FetchResult:
        with pytest.raises(FetchError):
            await f.fetch(server.url("/page"))
        await asyncio.sleep(0.35)
        return await f.fetch(server.url("/page"))

    assert run(settings, body).status == 200
    assert server.paths() == ["/robots.txt", "/robots.txt", "/robots.txt", "/page"]


def test_check_robots_false_skips_robots(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /\n"))
    server.route("/p", Reply(body=HTML))
    run(make_settings(tmp_path), lambda f: f.fetch(server.url("/p"), check_robots=False))
    assert server.paths() == ["/p"]


# --- politeness ----------------------------------------------------------------------------

def test_crawl_delay_spaces_requests(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/robots.txt", Reply(body="User-agent: *\nCrawl-delay: 0.4\n",
                                      content_type="text/plain"))
    server.route("/a", Reply(body=HTML))
    server.route("/b", Reply(body=HTML))

    async def body(f: Fetcher) -> None:
        await f.fetch(server.url("/a"))
        await f.fetch(server.url("/b"))

    run(make_settings(tmp_path), body)
    assert server.paths() == ["/robots.txt", "/a", "/b"]
    times = starts(server)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= 0.4 - TOLERANCE for gap in gaps), gaps


def test_min_delay_includes_robots_request(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/a", Reply(body=HTML))
    run(make_settings(tmp_path, fetch_min_delay=0.3), lambda f: f.fetch(server.url("/a")))
    robots, page = starts(server)
    assert page - robots >= 0.3 - TOLERANCE


def test_one_request_at_a_time_per_host(tmp_path: Path, server: LoopbackServer) -> None:
    def slow(req: RecordedRequest) -> Reply:
        server.wait(0.15)
        return Reply(body=HTML)

    server.route("/slow", slow)
    settings = make_settings(tmp_path, fetch_min_delay=0.0)

    async def body(f: Fetcher) -> list[FetchResult]:
        return await asyncio.gather(*(f.fetch(server.url(f"/slow?i={i}")) for i in range(4)))

    results = run(settings, body)
    assert [r.status for r in results] == [200] * 4
    assert len(server.requests("/slow")) == 4
    assert server.max_in_flight == 1


def test_different_hosts_run_in_parallel_within_the_global_limit(
        tmp_path: Path, server: LoopbackServer) -> None:
    def slow(req: RecordedRequest) -> Reply:
        server.wait(0.3)
        return Reply(body=HTML)

    server.route("/slow", slow)
    resolver = fake_dns({"a.example": ["127.0.0.1"], "b.example": ["127.0.0.1"]})
    urls = [f"http://{h}:{server.port}/slow" for h in ("a.example", "b.example")]

    async def body(f: Fetcher) -> None:
        await asyncio.gather(*(f.fetch(u, check_robots=False) for u in urls))

    run(make_settings(tmp_path, fetch_concurrency=4), body, resolver=resolver)
    assert server.max_in_flight == 2
    server.clear()
    run(make_settings(tmp_path, fetch_concurrency=1), body, resolver=resolver)
    assert len(server.requests("/slow")) == 2
    assert server.max_in_flight == 1


# --- retries and rate limits ---------------------------------------------------------------

def test_429_with_retry_after_then_success(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/r", replies(Reply(429, headers={"Retry-After": "1"}), Reply(body=HTML)))
    res = run(make_settings(tmp_path), lambda f: f.fetch(server.url("/r")))
    assert res.content == HTML
    first, second = starts(server, "/r")
    assert second - first >= 1.0 - TOLERANCE


def test_503_is_retried_then_fails(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/down", Reply(503, body="busy"))
    err = fetch_error(make_settings(tmp_path, fetch_retries=2), server.url("/down"))
    assert (err.reason, err.status) == ("http_status", 503)
    assert len(server.requests("/down")) == 3


def test_503_then_recovery(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/flaky", replies(Reply(503), Reply(502), Reply(body=HTML)))
    res = run(make_settings(tmp_path, fetch_retries=2), lambda f: f.fetch(server.url("/flaky")))
    assert res.status == 200 and len(server.requests("/flaky")) == 3


@pytest.mark.parametrize("retry_after", ["3600", "http-date"])
def test_long_retry_after_fails_at_once(tmp_path: Path, server: LoopbackServer,
                                        retry_after: str) -> None:
    if retry_after == "http-date":
        later = datetime.now(UTC) + timedelta(hours=2)
        retry_after = email.utils.format_datetime(later, usegmt=True)
    server.route("/busy", Reply(429, headers={"Retry-After": retry_after}))
    err = fetch_error(make_settings(tmp_path), server.url("/busy"))
    assert (err.reason, err.status) == ("rate_limited", 429)
    assert err.retry_after is not None and 3500 <= err.retry_after <= 7300
    assert len(server.requests("/busy")) == 1


def test_fetch_error_survives_pickling() -> None:
    import pickle

    err = FetchError("rate_limited", "http://x.example/", "slow down", status=429,
                     retry_after=30.0)
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.reason, copy.url, str(copy), copy.status, copy.retry_after) == (
        "rate_limited", "http://x.example/", "slow down", 429, 30.0)


def test_other_client_errors_are_not_retried(tmp_path: Path, server: LoopbackServer) -> None:
    err = fetch_error(make_settings(tmp_path), server.url("/missing"))
    assert (err.reason, err.status) == ("http_status", 404)
    assert len(server.requests("/missing")) == 1


def test_connection_refused_is_a_connect_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = fetch_error(make_settings(tmp_path, fetch_retries=1), f"http://127.0.0.1:{port}/x",
                      check_robots=False)
    assert err.reason == "connect_error"


def test_unresolvable_host_is_a_connect_error(tmp_path: Path) -> None:
    err = fetch_error(make_settings(tmp_path), "http://nowhere.example/", resolver=fake_dns({}))
    assert err.reason == "connect_error" and "nowhere.example" in str(err)


# --- timeouts and size limits --------------------------------------------------------------

def test_slow_server_times_out(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/slow", Reply(body=HTML, delay=3.0))
    settings = make_settings(tmp_path, fetch_read_timeout=0.3)
    err = fetch_error(settings, server.url("/slow"), check_robots=False)
    assert err.reason == "timeout"
    assert len(server.requests("/slow")) == 1


def test_trickling_server_hits_the_overall_deadline(tmp_path: Path,
                                                    server: LoopbackServer) -> None:
    """Each byte arrives within the read timeout; only the overall deadline can stop it."""
    server.route("/drip", Reply(body=[b"x"] * 200, chunk_delay=0.1, content_type="text/plain"))
    settings = make_settings(tmp_path, fetch_read_timeout=0.3, fetch_connect_timeout=0.3)
    err = fetch_error(settings, server.url("/drip"), check_robots=False)
    assert err.reason == "timeout"


@pytest.mark.parametrize("content_length", [True, False])
def test_body_over_limit(tmp_path: Path, server: LoopbackServer, content_length: bool) -> None:
    body = [b"a" * 500] * 10
    server.route("/big", Reply(body=b"".join(body) if content_length else body,
                               content_length=content_length))
    err = fetch_error(make_settings(tmp_path, fetch_max_bytes=1000), server.url("/big"))
    assert err.reason == "too_large"


def test_body_at_limit_passes(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/ok", Reply(body=[b"a" * 500] * 2, content_length=False))
    res = run(make_settings(tmp_path, fetch_max_bytes=1000), lambda f: f.fetch(server.url("/ok")))
    assert res.content == b"a" * 1000


@cache
def gzip_bomb(mib: int) -> bytes:
    """A single-member gzip stream inflating to `mib` MiB of zeros (about 1 KiB per MiB)."""
    zeros = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)  # restartable: repeat it
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + segment * mib + b"\x03\x00" + trailer


def test_gzip_bomb_helper_is_a_real_bomb() -> None:
    assert len(gzip.decompress(gzip_bomb(8))) == 8 << 20


def test_gzip_bomb_is_stopped_without_inflating_it(tmp_path: Path,
                                                   server: LoopbackServer) -> None:
    bomb = gzip_bomb(1024)  # 1 GiB of zeros
    assert len(bomb) < 1_100_000
    limit = 2 << 20
    server.route("/bomb", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    settings = make_settings(tmp_path, fetch_max_bytes=limit)
    tracemalloc.start()
    try:
        err = fetch_error(settings, server.url("/bomb"), check_robots=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.reason == "too_large"
    assert peak < 16 * limit  # vs 1 GiB inflated; about 2x the limit in practice


@pytest.mark.parametrize("encoding", ["gzip", "gzip-members", "deflate-zlib", "deflate-raw"])
def test_compressed_bodies_are_decoded(tmp_path: Path, server: LoopbackServer,
                                       encoding: str) -> None:
    page = HTML * 50
    if encoding == "gzip":
        data, header = gzip.compress(page), "gzip"
    elif encoding == "gzip-members":
        data, header = gzip.compress(page[:100]) + gzip.compress(page[100:]), "gzip"
    elif encoding == "deflate-zlib":
        data, header = zlib.compress(page), "deflate"
    else:
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        data, header = comp.compress(page) + comp.flush(), "deflate"
    server.route("/z", Reply(body=data, headers={"Content-Encoding": header}))
    res = run(make_settings(tmp_path), lambda f: f.fetch(server.url("/z")))
    assert res.content == page


def test_corrupt_gzip_is_a_decode_error(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/z", Reply(body=gzip.compress(HTML)[:-20] + b"garbage!" * 3,
                             headers={"Content-Encoding": "gzip"}))
    assert fetch_error(make_settings(tmp_path), server.url("/z")).reason == "decode_error"


def test_brotli_only_offered_with_a_decoder(tmp_path: Path, server: LoopbackServer) -> None:
    import importlib.util

    server.route("/p", Reply(body=HTML))
    run(make_settings(tmp_path), lambda f: f.fetch(server.url("/p")))
    offered = server.requests("/p")[0].header("accept-encoding") or ""
    has_brotli = any(importlib.util.find_spec(m) for m in ("brotli", "brotlicffi"))
    assert ("br" in [c.strip() for c in offered.split(",")]) == has_brotli


# --- redirects -----------------------------------------------------------------------------

def test_redirects_are_followed_and_reported(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/old", Reply(301, headers={"Location": "/mid"}))
    server.route("/mid", Reply(302, headers={"Location": server.url("/new#frag")}))
    server.route("/new", Reply(body=HTML))
    res = run(make_settings(tmp_path), lambda f: f.fetch(server.url("/old")))
    assert res.url == server.url("/new")
    assert res.redirects == (server.url("/old"), server.url("/mid"))


def test_redirect_loop(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/r1", Reply(302, headers={"Location": "/r2"}))
    server.route("/r2", Reply(302, headers={"Location": "/r1"}))
    err = fetch_error(make_settings(tmp_path), server.url("/r1"))
    assert err.reason == "redirect_loop"
    assert server.paths() == ["/robots.txt", "/r1", "/r2"]


def test_too_many_redirects(tmp_path: Path, server: LoopbackServer) -> None:
    def hop(req: RecordedRequest) -> Reply:
        n = int(req.route_path.rsplit("/", 1)[1])
        return Reply(302, headers={"Location": f"/hop/{n + 1}"})

    server.route("/hop/*", hop)
    err = fetch_error(make_settings(tmp_path, fetch_max_redirects=3), server.url("/hop/0"))
    assert err.reason == "too_many_redirects"
    assert [r.path for r in server.requests() if r.path.startswith("/hop/")] == [
        "/hop/0", "/hop/1", "/hop/2", "/hop/3"]


def test_robots_is_checked_on_every_hop(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/robots.txt", Reply(body="User-agent: *\nDisallow: /secret\n"))
    server.route("/go", Reply(302, headers={"Location": "/secret"}))
    err = fetch_error(make_settings(tmp_path), server.url("/go"))
    assert err.reason == "robots_disallowed"
    assert server.paths() == ["/robots.txt", "/go"]


@pytest.mark.parametrize("target", [
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:10.0.0.1]/",
    "http://[fd00::1]:8080/",
    "http://metadata.internal/computeMetadata/v1/",
])
def test_redirect_to_private_address_is_refused_before_connecting(
        tmp_path: Path, server: LoopbackServer, target: str) -> None:
    server.route("/go", Reply(302, headers={"Location": target}))
    resolver = fake_dns({"metadata.internal": ["169.254.169.254"]})
    err = fetch_error(make_settings(tmp_path), server.url("/go"), resolver=resolver)
    assert err.reason == "blocked_address"
    assert server.paths() == ["/robots.txt", "/go"]


def test_redirect_to_other_scheme_is_invalid(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/go", Reply(302, headers={"Location": "file:///etc/passwd"}))
    assert fetch_error(make_settings(tmp_path), server.url("/go")).reason == "invalid_url"


# --- the address guard in the fetcher ------------------------------------------------------

def test_loopback_refused_without_allow_list(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/page", Reply(body=HTML))
    settings = make_settings(tmp_path, fetch_allow_networks=())
    for url in (server.url("/page"), f"http://localhost:{server.port}/page",
                f"http://[::ffff:127.0.0.1]:{server.port}/page"):
        err = fetch_error(settings, url)
        assert err.reason == "blocked_address", url
    assert server.requests() == []


def test_allow_list_host_name(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/page", Reply(body=HTML))
    settings = make_settings(tmp_path, fetch_allow_networks=("intranet.example",))
    resolver = fake_dns({"intranet.example": ["127.0.0.1"]})
    url = f"http://intranet.example:{server.port}/page"
    assert run(settings, lambda f: f.fetch(url), resolver=resolver).status == 200
    err = fetch_error(settings, server.url("/page"), resolver=resolver)
    assert err.reason == "blocked_address"  # the literal address is not on the list


def test_dns_rebinding_after_the_check_is_caught(tmp_path: Path,
                                                 server: LoopbackServer) -> None:
    """The name resolves to loopback (allowed) for the check, then to 10.0.0.1 for the
    connection: the pinned backend re-checks and never dials the second address."""
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    server.route("/page", Reply(body=HTML))
    url = f"http://rebind.example:{server.port}/page"
    err = fetch_error(make_settings(tmp_path), url, resolver=rebinding, check_robots=False)
    assert err.reason == "blocked_address"
    assert server.requests() == []


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http://", "not a url",
                                 "javascript:alert(1)", "http://exa mple.com/"])
def test_invalid_urls(tmp_path: Path, url: str) -> None:
    assert fetch_error(make_settings(tmp_path), url).reason == "invalid_url"


# --- content types -------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "content_type", "body", "ok"), [
    ("feed", "text/html; charset=utf-8", HTML, False),
    ("feed", "application/rss+xml", RSS, True),
    ("feed", "application/octet-stream", RSS, True),
    ("feed", "text/plain", b'{"version": "https://jsonfeed.org/version/1.1"}', True),
    ("feed", "text/plain", b"just words", False),
    ("feed", "text/html", RSS, True),  # a feed mislabelled as HTML is still a feed
    ("feed", "image/png", b"\x89PNG", False),
    ("html", "application/json", b"{}", False),
    ("html", "application/xhtml+xml", HTML, True),
    ("html", None, HTML, True),
    ("html", None, b"\x00\x01binary", False),
    ("any", "image/png", b"\x89PNG", True),
])
def test_content_type_checks(tmp_path: Path, server: LoopbackServer, accept: Any,
                             content_type: str | None, body: bytes, ok: bool) -> None:
    server.route("/doc", Reply(body=body, content_type=content_type))
    settings = make_settings(tmp_path)
    if ok:
        res = run(settings, lambda f: f.fetch(server.url("/doc"), accept=accept))
        assert res.content == body
    else:
        err = fetch_error(settings, server.url("/doc"), accept=accept)
        assert err.reason == "bad_content_type"


# --- netguard ------------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "blocked"), [
    ("127.0.0.1", True), ("127.255.0.9", True), ("10.1.2.3", True), ("172.16.0.1", True),
    ("192.168.1.1", True), ("169.254.169.254", True), ("100.64.0.1", True),
    ("0.0.0.0", True), ("224.0.0.1", True), ("255.255.255.255", True), ("240.0.0.1", True),
    ("::1", True), ("::", True), ("fe80::1", True), ("fc00::1", True), ("ff02::1", True),
    ("::ffff:127.0.0.1", True), ("::ffff:10.0.0.1", True), ("2002:7f00:1::1", True),
    ("2002:a00:1::", True), ("64:ff9b::a00:1", True), ("64:ff9b::7f00:1", True),
    ("93.184.216.34", False), ("8.8.8.8", False), ("2606:4700:4700::1111", False),
    ("::ffff:8.8.8.8", False), ("2002:808:808::1", False),
])
def test_blocked_reason(address: str, blocked: bool) -> None:
    assert (blocked_reason(address) is not None) == blocked


def test_guard_refuses_if_any_address_is_private() -> None:
    guard = AddressGuard((), fake_dns({"mixed.example": ["93.184.216.34", "10.0.0.5"],
                                       "public.example": ["93.184.216.34"]}))

    async def check() -> list[str]:
        with pytest.raises(BlockedAddressError) as info:
            await guard.resolve("mixed.example", 80)
        assert info.value.address == "10.0.0.5" and info.value.reason == "private"
        with pytest.raises(BlockedAddressError):
            await guard.resolve("LOCALHOST.", 80)
        with pytest.raises(BlockedAddressError):
            await guard.resolve("[::1]", 80)
        return await guard.resolve("public.example", 443)

    assert asyncio.run(check()) == ["93.184.216.34"]


def test_guard_allow_list_networks_cover_mapped_forms() -> None:
    guard = AddressGuard(["10.0.0.0/8", " "])

    async def check() -> None:
        assert await guard.resolve("10.9.9.9", 80) == ["10.9.9.9"]
        [mapped] = await guard.resolve("::ffff:10.9.9.9", 80)
        assert ipaddress.IPv6Address(mapped).ipv4_mapped == ipaddress.IPv4Address("10.9.9.9")
        with pytest.raises(BlockedAddressError):
            await guard.resolve("192.168.0.1", 80)

    asyncio.run(check())


# --- robots.txt parsing --------------------------------------------------------------------

def test_robots_longest_match_and_allow_on_tie() -> None:
    policy = parse_robots(
        "User-agent: *\n"
        "Disallow: /news/\n"
        "Allow: /news/public/\n"
        "Disallow: /*.pdf$\n"
        "Allow: /page\n"
        "Disallow: /page\n"
        "Disallow: /search?q=*&page=\n"
    )
    assert not policy.allows("/news/article")
    assert policy.allows("/news/public/a")
    assert not policy.allows("/files/report.pdf")
    assert policy.allows("/files/report.pdf?download=1")
    assert policy.allows("/page")  # equal length: Allow wins
    assert not policy.allows("/search?q=x&page=2")
    assert policy.allows("/search?q=x")
    assert policy.allows("/robots.txt")


def test_robots_groups_agents_and_extras() -> None:
    text = (
        "# comment\n"
        "Sitemap: https://example.com/news-sitemap.xml\n"
        "User-agent: Googlebot\n"
        "User-agent: BABELWIRE\n"
        "Disallow: /g\n"
        "Crawl-delay: 2.5\n"
        "\n"
        "User-agent: *\n"
        "Disallow: /\n"
        "\n"
        "User-agent: babelwire\n"
        "Disallow: /b   # merged with the earlier group\n"
    )
    policy = parse_robots(text)
    assert not policy.allows("/g/1") and not policy.allows("/b")
    assert policy.allows("/elsewhere")
    assert policy.crawl_delay == 2.5
    assert policy.sitemaps == ("https://example.com/news-sitemap.xml",)
    other = parse_robots(text, product="OtherBot")
    assert not other.allows("/elsewhere") and other.crawl_delay is None


def test_robots_edge_cases() -> None:
    assert parse_robots("").allows("/anything")
    assert parse_robots("Disallow: /\n").allows("/x")  # rules outside any group are ignored
    assert parse_robots("User-agent: *\nDisallow:\n").allows("/x")
    assert not parse_robots("User-agent: *\nDisallow: /caf%C3%A9\n").allows("/café")
    assert not parse_robots("User-agent: *\nDisallow: /%7Euser\n").allows("/~user/x")
    assert not parse_robots("User-agent: *\nDisallow: /$\n").allows("/")
    assert parse_robots("User-agent: *\nDisallow: /$\n").allows("/a")
    assert parse_robots("User-agent: *\nCrawl-delay: nan\nCrawl-delay: x\n").crawl_delay is None
    assert not RobotsPolicy.disallow_all().allows("/x")
    assert RobotsPolicy.disallow_all().allows("/robots.txt")


def test_robots_matching_stays_linear_on_hostile_patterns() -> None:
    policy = parse_robots("User-agent: *\nDisallow: /" + "*a" * 200 + "*b$\n")
    assert policy.allows("/" + "a" * 50_000)  # a backtracking regex would not finish
    assert not policy.allows("/" + "a" * 300 + "b")
