"""Per-client bounds on the site's costly paths, so that one client slows only itself.

Search (the page and the API) and deep pagination (any request with a ``cursor``) each
have a token bucket per client address: `burst` requests at once, refilled at `rate` per
second. A client past its bucket gets a 429 with Retry-After; other clients are not
affected. On-demand translation has its own bound (ondemand.py: requests waiting per
client). The client address is the connection's, or the one uvicorn takes from
X-Forwarded-For when the proxy is trusted (``--forwarded-allow-ips``).

The table of buckets is bounded (least recently seen clients are forgotten first), so
many addresses cannot grow it without limit.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from babelwire import metrics

__all__ = ["Bucket", "ClientLimits", "Limit", "RateTable", "classify"]


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second; 0 turns the bound off
    burst: int


class Bucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens, self.stamp = tokens, stamp


class RateTable:
    """Token buckets by key, at most `max_keys` of them (least recently used dropped)."""

    def __init__(self, limit: Limit, *, max_keys: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.max_keys, self._clock = limit, max_keys, clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """0.0 when `key` may go ahead (a token is spent), else the seconds until it may."""
        rate, burst = self.limit.rate, self.limit.burst
        if rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = Bucket(float(burst), now)
                if len(self._buckets) > self.max_keys:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.stamp) * rate)
                bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / rate


_NOT_LANGUAGES = frozenset({"api", "static"})


def classify(path: str, query: bytes) -> str | None:
    """Which bound a request falls under: "search", "pages" (a cursor: deep pagination),
    or None (not bounded here)."""
    parts = path.strip("/").split("/")
    if parts == ["api", "v1", "search"] or (
            len(parts) == 2 and parts[1] == "search" and parts[0] not in _NOT_LANGUAGES):
        return "search"
    if b"cursor=" in query:
        return "pages"
    return None


class ClientLimits:
    """ASGI middleware: a 429 with Retry-After for a client past its bound on a costly
    path (HTML for pages, JSON under /api/)."""

    def __init__(self, app: ASGIApp, *, search: Limit, pages: Limit,
                 max_clients: int = 10_000) -> None:
        self.app = app
        self.tables = {"search": RateTable(search, max_keys=max_clients),
                       "pages": RateTable(pages, max_keys=max_clients)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            kind = classify(scope.get("path", ""), scope.get("query_string", b""))
            if kind is not None:
                client = scope.get("client")
                wait = self.tables[kind].take(client[0] if client else "?")
                if wait > 0:
                    metrics.LIMITED.labels(kind).inc()
                    await _too_many(scope, send, kind, math.ceil(wait))
                    return
        await self.app(scope, receive, send)


async def _too_many(scope: Scope, send: Send, kind: str, seconds: int) -> None:
    what = "searches" if kind == "search" else "pages"
    message = f"Too many {what} from your address at once; try again in {seconds} s."
    if scope.get("path", "").startswith("/api/"):
        body = json.dumps({"error": "rate_limited", "detail": message,
                           "retry_after": seconds}).encode()
        ctype = b"application/json"
    else:
        body = (f'<!doctype html><html><head><meta charset="utf-8"><title>Too many requests'
                f"</title></head><body><h1>Too many requests</h1><p>{message}</p></body>"
                f"</html>").encode()
        ctype = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 429, "headers": [
        (b"content-type", ctype), (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(seconds).encode()), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
