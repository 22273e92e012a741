"""The one way Babelwire fetches a URL: politely, safely, and within limits.

`Fetcher.fetch` does, for the URL and every redirect hop:

1. checks the URL (http/https only) and the SSRF guard (`netguard`): no private addresses;
2. checks robots.txt for the origin (cached; fetched through this same path);
3. waits for its turn at the host: one request at a time per host, starts at least
   ``max(fetch_min_delay, Crawl-delay)`` apart, and at most ``fetch_concurrency`` requests in
   flight overall;
4. sends a GET with our User-Agent, Accept headers and conditional-GET validators, and reads
   the body as a stream, decompressing it ourselves in bounded steps so neither a large body
   nor a compression bomb gets past ``fetch_max_bytes``; the whole exchange has a deadline;
5. retries 429, 5xx and connection failures with exponential backoff, honouring Retry-After
   (waits longer than ``fetch_max_retry_after`` fail as ``rate_limited`` for the caller to
   schedule), and follows redirects by hand.

Failures raise `FetchError` with a machine-readable ``reason``.
"""

from __future__ import annotations

import asyncio
import email.utils
import importlib.util
import math
import random
import re
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal, Protocol

import httpx

from babelwire.config import Settings
from babelwire.ingest.charset import decode_body, parse_content_type
from babelwire.ingest.netguard import AddressGuard, BlockedAddressError, Resolver, guarded_transport
from babelwire.ingest.robots import PRODUCT_TOKEN, RobotsCache, RobotsPolicy, parse_robots

__all__ = ["Accept", "FetchError", "FetchReason", "FetchResult", "Fetcher"]

Accept = Literal["feed", "html", "any"]
FetchReason = Literal[
    "invalid_url", "blocked_address", "robots_disallowed", "timeout", "connect_error",
    "http_status", "rate_limited", "too_large", "too_many_redirects", "redirect_loop",
    "bad_content_type", "decode_error",
]

_HOST_RE = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?\.?")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
_ROBOTS_ERROR_TTL = 60.0  # an unreachable robots.txt disallows, but only this long
_CHUNK = 64 * 1024  # largest piece a decompressor may produce at once

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
    "text/xml", "application/json", "application/feed+json", "application/x-rss+xml",
    "application/x-atom+xml", "application/rss", "text/rss+xml", "text/atom+xml",
})
# Types a feed may be mislabelled with: admitted when the body looks like XML or JSON.
_FEED_SNIFFED = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})

_ACCEPT_HEADERS: dict[str, str] = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": ("application/rss+xml,application/atom+xml,application/feed+json,"
             "application/xml;q=0.9,text/xml;q=0.9,application/json;q=0.8,*/*;q=0.1"),
    "any": "*/*",
}


def _brotli_available() -> bool:
    return any(importlib.util.find_spec(m) is not None for m in ("brotli", "brotlicffi"))


class FetchError(Exception):
    """A fetch that did not produce a usable response; `reason` says why."""

    def __init__(self, reason: FetchReason, url: str = "", message: str = "", *,
                 status: int | None = None, retry_after: float | None = None) -> None:
        self.reason: FetchReason = reason
        self.url = url
        self.status = status
        self.retry_after = retry_after
        super().__init__(" ".join((message or f"{reason.replace('_', ' ')}: {url}").split()))

    def __reduce__(self) -> tuple[type[FetchError], tuple[str, str, str], dict[str, object]]:
        # keeps reason, status and retry_after across pickling (process pools, job queues)
        return type(self), (self.reason, self.url, str(self)), {
            "status": self.status, "retry_after": self.retry_after}


@dataclass
class FetchResult:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    content_type: str
    charset: str | None
    etag: str | None
    last_modified: str | None
    not_modified: bool
    fetched_at: datetime
    elapsed: float
    redirects: tuple[str, ...] = ()

    def text(self) -> str:
        """The body as text (see `charset.decode_body`)."""
        is_html = self.content_type in HTML_TYPES or not self.content_type
        return decode_body(self.content, self.charset, is_html=is_html)[0]


# --- bounded decompression -------------------------------------------------------------

class _DecodeFailure(Exception):
    """A compressed body that does not decompress."""


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...
    def flush(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (also several members) or deflate (zlib-wrapped or raw), at most _CHUNK at once."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._d: zlib._Decompress | None = None
        self._ignore_rest = False

    def _start(self, data: bytes) -> zlib._Decompress:
        if self._gzip:
            return zlib.decompressobj(31)
        # deflate: RFC 9110 says zlib format, but some servers send raw deflate
        wrapped = len(data) < 2 or (data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0)
        return zlib.decompressobj(15 if wrapped else -15)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._ignore_rest:
            if self._d is not None and self._d.eof:  # a complete stream is behind us
                data = data.lstrip(b"\0")
                if not self._gzip or (data and not data.startswith(b"\x1f\x8b"[:len(data)])):
                    self._ignore_rest = True  # trailing bytes after the stream
                    return
                if not data:
                    return
                self._d = None
            if self._d is None:
                self._d = self._start(data)
            d = self._d
            try:
                out = d.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise _DecodeFailure(str(exc)) from None
            if out:
                yield out
            data = d.unconsumed_tail
            while len(out) == _CHUNK and not data:  # output still pending inside zlib
                out = d.decompress(b"", _CHUNK)  # no new input: cannot fail
                if out:
                    yield out
            if d.eof:
                data = d.unused_data

    def flush(self) -> Iterator[bytes]:
        if self._d is not None and not self._d.eof and not self._ignore_rest:
            raise _DecodeFailure("compressed body ends early")
        return iter(())


class _Brotli:
    """Brotli, fed in small slices (its output per call is not bounded by the library)."""

    def __init__(self) -> None:
        try:
            import brotli

            self._process = brotli.Decompressor().process
        except ImportError:
            import brotlicffi

            self._process = brotlicffi.Decompressor().decompress

    def feed(self, data: bytes) -> Iterator[bytes]:
        for i in range(0, len(data), 1024):
            try:
                out = self._process(data[i:i + 1024])
            except Exception as exc:  # brotli.error / brotlicffi.Error
                raise _DecodeFailure(str(exc)) from None
            if out:
                yield out

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Chain:
    def __init__(self, decoders: list[_Decoder]) -> None:
        self._decoders = decoders

    def _through(self, pieces: Iterator[bytes], start: int) -> Iterator[bytes]:
        if start == len(self._decoders):
            yield from pieces
            return
        decoder = self._decoders[start]
        for piece in pieces:
            yield from self._through(decoder.feed(piece), start + 1)

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(iter([data]), 0)

    def flush(self) -> Iterator[bytes]:
        for i, decoder in enumerate(self._decoders):
            yield from self._through(decoder.flush(), i + 1)


def _decoder_for(content_encoding: str, brotli: bool) -> _Decoder:
    """Decoders for a Content-Encoding list, applied last-first; unknown codings pass."""
    decoders: list[_Decoder] = []
    for coding in reversed([c.strip().lower() for c in content_encoding.split(",")]):
        if coding in {"gzip", "x-gzip"}:
            decoders.append(_Zlib(gzip=True))
        elif coding == "deflate":
            decoders.append(_Zlib(gzip=False))
        elif coding == "br" and brotli:
            decoders.append(_Brotli())
    return _Chain(decoders) if decoders else _Identity()


# --- content sniffing ------------------------------------------------------------------

def _head(body: bytes) -> bytes:
    return body[:1024].removeprefix(b"\xef\xbb\xbf").lstrip().lower()


def _looks_html(body: bytes) -> bool:
    head = _head(body)
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        head.startswith(b"<!--") and b"<html" in head)


def _looks_feed_xml(body: bytes) -> bool:
    head = _head(body)
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2:].lstrip()
        while head.startswith((b"<!--", b"<?")):
            end = head.find(b"-->" if head.startswith(b"<!--") else b"?>")
            head = head[end + 3:].lstrip() if end >= 0 else b""
    return head.startswith((b"<rss", b"<feed", b"<rdf:rdf", b"<urlset", b"<sitemapindex"))


def _looks_xml_or_json(body: bytes) -> bool:
    head = _head(body)
    return head.startswith((b"<?xml", b"{", b"[")) or _looks_feed_xml(body)


def _type_acceptable(accept: Accept, media: str, body: bytes | None) -> bool | None:
    """True/False, or None when the body must be seen first (`body` None = not read yet)."""
    if accept == "any":
        return True
    if accept == "html":
        if media in HTML_TYPES:
            return True
        if media == "":
            return None if body is None else _looks_html(body)
        return False
    if media in _FEED_TYPES:
        return True
    if media in _FEED_SNIFFED:
        return None if body is None else _looks_xml_or_json(body)
    if media == "text/html":  # feeds served as text/html are common: admit real ones
        return None if body is None else _looks_feed_xml(body)
    return False


# --- retry timing ----------------------------------------------------------------------

def _retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


# --- the fetcher -----------------------------------------------------------------------

class _Retryable(Exception):
    """Carries a FetchError that deserves another attempt."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class _Host:
    """Politeness state of one host name (all its ports and schemes)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_start: float = -math.inf  # loop time the latest request started
    not_before: float = -math.inf  # loop time set by Retry-After or backoff
    crawl_delay: float = 0.0


@dataclass
class _Reply:
    url: httpx.URL
    status: int
    headers: httpx.Headers
    content: bytes


@dataclass
class _Target:
    url: httpx.URL
    host: str  # ASCII (IDNA) host name or address, lower case
    port: int

    @property
    def origin(self) -> str:
        return f"{self.url.scheme}://{self.host}:{self.port}"

    @property
    def path(self) -> str:
        return self.url.raw_path.decode("ascii", errors="replace")


def _target(url: str | httpx.URL) -> _Target:
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise FetchError("invalid_url", str(url), f"invalid URL {str(url)!r}: {exc}") from None
    if parsed.scheme not in {"http", "https"}:
        raise FetchError("invalid_url", str(url), f"not an http(s) URL: {str(url)!r}")
    if not host:
        raise FetchError("invalid_url", str(url), f"URL without a host: {str(url)!r}")
    if not _HOST_RE.fullmatch(host) and ":" not in host:  # ":" only in IPv6 literals
        raise FetchError("invalid_url", str(url), f"bad host name in {str(url)!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return _Target(parsed.copy_with(fragment=None), host, port)


class Fetcher:
    """Polite, guarded HTTP fetching; one instance per event loop, shared by all its callers
    (politeness is only as good as the sharing: two fetchers pace a host independently).

    `transport` replaces the network (tests, proxies); without it connections are pinned to
    the addresses the SSRF guard checked. `resolver(host, port)` replaces DNS.
    `backoff_base` scales the retry backoff (seconds; 1.0 in production).
    """

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None,
                 resolver: Resolver | None = None, backoff_base: float = 1.0) -> None:
        self._settings = settings
        self._guard = AddressGuard(settings.fetch_allow_networks, resolver)
        self._brotli = _brotli_available()
        self._backoff_base = backoff_base
        self._random = random.Random()
        self._semaphore = asyncio.Semaphore(max(1, settings.fetch_concurrency))
        self._hosts: dict[str, _Host] = {}
        self._robots = RobotsCache()
        connect, read = settings.fetch_connect_timeout, settings.fetch_read_timeout
        self._deadline = connect + 2 * read
        self._client = httpx.AsyncClient(
            transport=transport or guarded_transport(
                self._guard, max_connections=max(10, 2 * settings.fetch_concurrency)),
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass the address pinning
            timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=connect + read),
            headers={"User-Agent": settings.user_agent},
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    @property
    def accept_encoding(self) -> str:
        return "gzip, deflate, br" if self._brotli else "gzip, deflate"

    # public ----------------------------------------------------------------------------

    async def fetch(self, url: str, *, etag: str | None = None,
                    last_modified: str | None = None, accept: Accept = "any",
                    check_robots: bool = True) -> FetchResult:
        """GET `url`; see the module docstring. Raises `FetchError`."""
        t0 = time.monotonic()
        headers = {"Accept": _ACCEPT_HEADERS[accept], "Accept-Encoding": self.accept_encoding}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        reply, redirects = await self._follow(
            url, headers, accept=accept, check_robots=check_robots,
            retries=max(0, self._settings.fetch_retries), limit=self._settings.fetch_max_bytes,
            truncate=False)
        final = str(reply.url)
        status = reply.status
        if status == 304:
            content = b""
        elif 200 <= status < 300:
            content = reply.content
        else:
            raise FetchError("http_status", final, f"HTTP {status} from {final}", status=status)
        media, charset = parse_content_type(reply.headers.get("content-type"))
        if status != 304 and not _type_acceptable(accept, media, content):
            raise FetchError("bad_content_type", final,
                             f"{final} is {media or 'untyped'}, not {accept} content",
                             status=status)
        return FetchResult(
            url=final, status=status, headers=reply.headers, content=content,
            content_type=media, charset=charset, etag=reply.headers.get("etag"),
            last_modified=reply.headers.get("last-modified"), not_modified=status == 304,
            fetched_at=datetime.now(UTC), elapsed=time.monotonic() - t0,
            redirects=redirects)

    # redirects, robots, guard -----------------------------------------------------------

    async def _follow(self, url: str, headers: dict[str, str], *, accept: Accept,
                      check_robots: bool, retries: int, limit: int, truncate: bool,
                      ) -> tuple[_Reply, tuple[str, ...]]:
        target = _target(url)
        seen = {str(target.url)}
        hops: list[str] = []
        while True:
            await self._check_address(target)
            if check_robots:
                await self._check_robots(target)
            reply = await self._request(target, headers, accept=accept, retries=retries,
                                        limit=limit, truncate=truncate)
            if reply.status not in _REDIRECTS:
                return reply, tuple(hops)
            here = str(target.url)
            location = reply.headers.get("location")
            if not location:
                raise FetchError("http_status", here,
                                 f"HTTP {reply.status} without Location from {here}",
                                 status=reply.status)
            try:
                nxt = target.url.join(location.strip())
            except (httpx.InvalidURL, TypeError, ValueError) as exc:
                raise FetchError("invalid_url", here,
                                 f"bad redirect {location!r} from {here}: {exc}") from None
            target = _target(nxt)
            hops.append(here)
            if str(target.url) in seen:
                raise FetchError("redirect_loop", here,
                                 f"redirect loop: {here} -> {target.url}", status=reply.status)
            if len(hops) > self._settings.fetch_max_redirects:
                raise FetchError("too_many_redirects", str(url),
                                 f"more than {self._settings.fetch_max_redirects} redirects "
                                 f"from {url}", status=reply.status)
            seen.add(str(target.url))

    async def _check_address(self, target: _Target) -> None:
        url = str(target.url)
        try:
            await self._guard.resolve(target.host, target.port)
        except BlockedAddressError as exc:
            raise FetchError("blocked_address", url, f"{url}: {exc}") from None
        except OSError as exc:
            raise FetchError("connect_error", url,
                             f"cannot resolve {target.host}: {exc}") from None

    async def _check_robots(self, target: _Target) -> None:
        policy = await self._robots.get_or_load(target.origin,
                                                lambda: self._load_robots(target))
        host = self._host(target.host)
        if policy.crawl_delay is not None:
            host.crawl_delay = max(host.crawl_delay, policy.crawl_delay)
        if not policy.allows(target.path):
            why = f" ({policy.note})" if policy.note else ""
            # retry_after is set only while robots.txt is unreachable: worth trying later
            raise FetchError("robots_disallowed", str(target.url),
                             f"robots.txt of {target.url.host} disallows {target.path}{why}",
                             retry_after=_ROBOTS_ERROR_TTL if policy.temporary else None)

    async def _load_robots(self, target: _Target) -> tuple[RobotsPolicy, float]:
        robots_url = f"{target.url.scheme}://{target.url.netloc.decode('ascii')}/robots.txt"
        ttl = self._settings.robots_cache_ttl
        error_ttl = min(ttl, _ROBOTS_ERROR_TTL)
        headers = {"Accept": "text/plain,*/*;q=0.1", "Accept-Encoding": self.accept_encoding}
        try:
            # retried like any fetch: one 5xx blip must not close the whole host for a while
            reply, _ = await self._follow(robots_url, headers, accept="any", check_robots=False,
                                          retries=self._settings.fetch_retries,
                                          limit=_ROBOTS_MAX_BYTES, truncate=True)
        except FetchError as exc:
            if exc.reason in {"rate_limited"} and exc.retry_after is not None:
                raise
            if exc.reason in {"too_many_redirects", "redirect_loop", "invalid_url",
                              "blocked_address"}:
                return RobotsPolicy.allow_all(f"robots.txt unavailable: {exc.reason}"), ttl
            if exc.reason == "http_status" and exc.status is not None:
                return self._robots_for_status(exc.status, b"", ttl, error_ttl)
            return RobotsPolicy.disallow_all(f"robots.txt unreachable: {exc.reason}",
                                             temporary=True), error_ttl
        return self._robots_for_status(reply.status, reply.content, ttl, error_ttl)

    @staticmethod
    def _robots_for_status(status: int, body: bytes, ttl: float, error_ttl: float,
                           ) -> tuple[RobotsPolicy, float]:
        if 200 <= status < 300:
            return parse_robots(body.decode("utf-8", errors="replace"), PRODUCT_TOKEN), ttl
        if status in {401, 403}:
            return RobotsPolicy.disallow_all(f"robots.txt answered HTTP {status}"), ttl
        if 400 <= status < 500 and status != 429:
            return RobotsPolicy.allow_all(f"robots.txt answered HTTP {status}"), ttl
        return RobotsPolicy.disallow_all(f"robots.txt answered HTTP {status}",
                                         temporary=True), error_ttl

    # pacing, retries, one exchange ------------------------------------------------------

    def _host(self, name: str) -> _Host:
        host = self._hosts.get(name)
        if host is None:
            host = self._hosts[name] = _Host()
        return host

    @staticmethod
    def _hold_off(host: _Host, seconds: float) -> None:
        host.not_before = max(host.not_before, asyncio.get_running_loop().time() + seconds)

    def _backoff(self, attempt: int) -> float:
        return self._backoff_base * (2 ** attempt) * self._random.uniform(0.5, 1.5)

    async def _request(self, target: _Target, headers: dict[str, str], *, accept: Accept,
                       retries: int, limit: int, truncate: bool) -> _Reply:
        url = str(target.url)
        max_wait = self._settings.fetch_max_retry_after
        host = self._host(target.host)
        attempt = 0
        while True:
            try:
                reply = await self._exchange(target, headers, accept=accept, limit=limit,
                                             truncate=truncate)
            except _Retryable as exc:
                if attempt >= retries:
                    raise exc.error from None
                wait = self._backoff(attempt)
            else:
                status = reply.status
                if status != 429 and status < 500:
                    return reply
                after = _retry_after(reply.headers.get("retry-after"))
                if after is not None:
                    self._hold_off(host, after)  # other requests to the host wait too
                if after is not None and after > max_wait:
                    raise FetchError("rate_limited", url,
                                     f"{target.url.host} asks to wait {after:.0f}s "
                                     f"(HTTP {status}); longer than {max_wait:.0f}s",
                                     status=status, retry_after=after)
                if attempt >= retries:
                    if status == 429:
                        raise FetchError("rate_limited", url,
                                         f"HTTP 429 from {url} after {attempt + 1} attempts",
                                         status=status, retry_after=after)
                    raise FetchError("http_status", url,
                                     f"HTTP {status} from {url} after {attempt + 1} attempts",
                                     status=status, retry_after=after)
                wait = after if after is not None else self._backoff(attempt)
            self._hold_off(host, wait)
            attempt += 1

    async def _exchange(self, target: _Target, headers: dict[str, str], *, accept: Accept,
                        limit: int, truncate: bool) -> _Reply:
        url = str(target.url)
        host = self._host(target.host)
        loop = asyncio.get_running_loop()
        async with host.lock:
            delay = max(self._settings.fetch_min_delay, host.crawl_delay)
            wait = max(host.last_start + delay, host.not_before) - loop.time()
            if wait > self._settings.fetch_max_retry_after:
                raise FetchError("rate_limited", url,
                                 f"next request to {target.url.host} allowed in {wait:.0f}s",
                                 retry_after=wait)
            if wait > 0:
                await asyncio.sleep(wait)
            async with self._semaphore:
                host.last_start = loop.time()
                try:
                    async with asyncio.timeout(self._deadline):
                        return await self._send(target, headers, accept=accept, limit=limit,
                                                truncate=truncate)
                except TimeoutError:
                    raise FetchError("timeout", url,
                                     f"{url} took longer than {self._deadline:.0f}s") from None
                except httpx.ConnectTimeout:
                    raise _Retryable(FetchError("timeout", url,
                                                f"connecting to {url} timed out")) from None
                except httpx.TimeoutException as exc:
                    raise FetchError("timeout", url,
                                     f"{url} timed out ({type(exc).__name__})") from None
                except httpx.TransportError as exc:
                    raise _Retryable(FetchError(
                        "connect_error", url, f"{url}: {type(exc).__name__}: {exc}")) from None
                except BlockedAddressError as exc:
                    raise FetchError("blocked_address", url, f"{url}: {exc}") from None
                except OSError as exc:  # resolution failure while dialling
                    raise FetchError("connect_error", url, f"{url}: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(self, target: _Target, headers: dict[str, str], *, accept: Accept,
                    limit: int, truncate: bool) -> _Reply:
        url = str(target.url)
        request = self._client.build_request("GET", target.url, headers=headers)
        response = await self._client.send(request, stream=True)
        try:
            status = response.status_code
            content = b""
            if 200 <= status < 300 and status != 204:
                media, _ = parse_content_type(response.headers.get("content-type"))
                if _type_acceptable(accept, media, None) is False:
                    raise FetchError("bad_content_type", url,
                                     f"{url} is {media}, not {accept} content", status=status)
                content = await self._read_body(response, url, limit, truncate)
            return _Reply(response.url, status, response.headers, content)
        finally:
            await response.aclose()

    async def _read_body(self, response: httpx.Response, url: str, limit: int,
                         truncate: bool) -> bytes:
        if not truncate:
            declared = response.headers.get("content-length", "")
            if declared.strip().isdigit() and int(declared) > limit:
                raise FetchError("too_large", url, f"{url} declares {int(declared)} bytes, "
                                 f"more than {limit}", status=response.status_code)
        decoder = _decoder_for(response.headers.get("content-encoding", ""), self._brotli)
        body = bytearray()

        def take(pieces: Iterator[bytes]) -> bool:
            """Append pieces; True once the limit is reached (truncating) ."""
            for piece in pieces:
                room = limit - len(body)
                if len(piece) > room:
                    if truncate:
                        body.extend(piece[:room])
                        return True
                    raise FetchError("too_large", url, f"{url} is larger than {limit} bytes",
                                     status=response.status_code)
                body.extend(piece)
            return False

        try:
            async for raw in response.aiter_raw():
                if take(decoder.feed(raw)):
                    return bytes(body)
            take(decoder.flush())
        except _DecodeFailure as exc:
            raise FetchError("decode_error", url, f"{url}: bad compressed body: {exc}",
                             status=response.status_code) from None
        return bytes(body)

