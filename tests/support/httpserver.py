"""A real HTTP server on 127.0.0.1 for tests, with canned replies and a request log.

Usage::

    from tests.support.httpserver import LoopbackServer, Reply, replies

    with LoopbackServer({
        "/feed.xml": Reply(body=rss_bytes, content_type="application/rss+xml"),
        "/flaky": replies(Reply(503), Reply(body=b"ok")),     # 503 first, then 200 for ever
        "/echo": lambda req: Reply(body=req.header("user-agent") or ""),
        "/hop/*": lambda req: Reply(302, headers={"Location": "/end"}),  # prefix route
    }) as server:
        url = server.url("/feed.xml")            # "http://127.0.0.1:<port>/feed.xml"
        ...                                      # exercise the code under test
        [req] = server.requests("/feed.xml")     # what the server received
        assert "Babelwire" in req.header("User-Agent")

Routes map a path (query string ignored; a key ending in ``*`` matches a prefix, the longest
prefix winning) to one of:

- a `Reply`: sent every time;
- a sequence of `Reply` (built with `replies`): sent in order, the last one repeating;
- a handler ``f(request: RecordedRequest) -> Reply``, run in the server's thread (it may
  sleep with ``server.wait(seconds)``, count, or decide from headers; an exception
  becomes a 500 and is kept in ``server.errors``).

Unknown paths get ``default`` (a plain 404). `Reply` can delay the status line
(``delay``), stream its body in chunks with pauses (``body`` as an iterable of bytes plus
``chunk_delay``), or leave out Content-Length (``content_length=False``: chunked encoding).
Waits end early when the server stops, so a slow route never holds up teardown.

Every request is recorded (`RecordedRequest`: method, path, lower-cased headers, body and
``time.monotonic()`` timestamps when it arrived and when its reply was written), and the
server tracks how many requests were being served at once (``max_in_flight``), which lets a
test check that a client serialises its requests. The server speaks HTTP/1.1 with
keep-alive, one thread per connection, and only ever binds to a loopback address.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["Handler", "LoopbackServer", "RecordedRequest", "Reply", "Route", "replies"]


@dataclass(frozen=True)
class Reply:
    """A canned HTTP response."""

    status: int = 200
    body: bytes | str | Iterable[bytes] = b""
    headers: Mapping[str, str] | Sequence[tuple[str, str]] = ()
    content_type: str | None = "text/html; charset=utf-8"  # None: no Content-Type header
    delay: float = 0.0  # seconds to wait before the status line
    chunk_delay: float = 0.0  # seconds to wait before each body chunk after the first
    content_length: bool = True  # False: chunked transfer encoding (always for iterables)


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str  # as sent, with the query string
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes
    started: float  # time.monotonic() when the request had been read
    finished: float | None = None  # time.monotonic() when the reply had been written
    client: tuple[str, int] = ("", 0)

    @property
    def route_path(self) -> str:
        """The path without its query string."""
        return self.path.split("?", 1)[0]

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Handler = Callable[[RecordedRequest], Reply]


@dataclass
class _Sequence:
    items: tuple[Reply, ...]
    served: int = 0


Route = Reply | Handler | _Sequence


def replies(*items: Reply) -> _Sequence:
    """A route that sends `items` in order and then keeps sending the last one."""
    if not items:
        raise ValueError("replies() needs at least one Reply")
    return _Sequence(tuple(items))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients of a test often hang up on purpose (size limits, timeouts): stay quiet.
        import sys

        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, (ConnectionError, TimeoutError)):
            self.owner.errors.append(exc)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 10  # idle keep-alive connections end eventually
    disable_nagle_algorithm = True  # no 40 ms stalls between headers and body

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._closed(self.connection)

    def _serve(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        request = RecordedRequest(method=self.command, path=self.path, headers=headers,
                                  body=body, started=time.monotonic(),
                                  client=self.client_address[:2])
        owner._begin(request)
        try:
            reply = owner._reply_for(request)
            self._send(reply, owner)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        finally:
            owner._end(request)

    def _send(self, reply: Reply, owner: LoopbackServer) -> None:
        if reply.delay and owner._stopping.wait(reply.delay):
            self.close_connection = True
            return
        items = reply.headers.items() if isinstance(reply.headers, Mapping) else reply.headers
        extra = list(items)
        names = {k.lower() for k, _ in extra}
        self.send_response(reply.status)
        if reply.content_type is not None and "content-type" not in names:
            self.send_header("Content-Type", reply.content_type)
        for key, value in extra:
            self.send_header(key, value)
        body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        head_only = self.command == "HEAD" or reply.status in (204, 304)
        if isinstance(body, bytes) and reply.content_length:
            if "content-length" not in names and reply.status not in (204, 304):
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head_only:
                self.wfile.write(body)
            return
        chunks: Iterable[bytes] = [body] if isinstance(body, bytes) else body
        if head_only:
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i, chunk in enumerate(chunks):
            if i and reply.chunk_delay and owner._stopping.wait(reply.chunk_delay):
                self.close_connection = True
                return
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _serve


class LoopbackServer:
    """An HTTP server in a background thread on a loopback address; see the module doc."""

    def __init__(self, routes: Mapping[str, Route] | None = None, *, host: str = "127.0.0.1",
                 default: Route = Reply(404, b"not found", content_type="text/plain")) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"LoopbackServer binds loopback addresses only, not {host}")
        self.host = host
        self.default = default
        self.errors: list[BaseException] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._routes: dict[str, Route] = dict(routes or {})
        self._log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        server = _Server((self.host, 0), _RequestHandler)
        server.owner = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                         name=f"LoopbackServer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping routes, and drop open connections."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            open_now = list(self._connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # routes and the log ------------------------------------------------------------------

    def route(self, path: str, target: Route) -> None:
        """Add or replace a route while the server runs."""
        with self._lock:
            self._routes[path] = target

    def requests(self, path: str | None = None) -> list[RecordedRequest]:
        """Requests received so far (for one path, query ignored), oldest first."""
        with self._lock:
            log = list(self._log)
        return [r for r in log if path is None or r.route_path == path]

    def paths(self) -> list[str]:
        """The paths (with queries) requested so far, oldest first."""
        return [r.path for r in self.requests()]

    def wait(self, seconds: float) -> bool:
        """Sleep in a handler; returns early (True) when the server is stopping."""
        return self._stopping.wait(seconds)

    def clear(self) -> None:
        """Forget recorded requests and the in-flight maximum."""
        with self._lock:
            self._log.clear()
            self.max_in_flight = self.in_flight

    # called from handler threads ---------------------------------------------------------

    def _opened(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _closed(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _begin(self, request: RecordedRequest) -> None:
        with self._lock:
            self._log.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _end(self, request: RecordedRequest) -> None:
        with self._lock:
            self.in_flight -= 1
            request.finished = time.monotonic()

    def _find_route(self, path: str) -> Route:
        with self._lock:
            if path in self._routes:
                return self._routes[path]
            prefixes = [k for k in self._routes if k.endswith("*") and path.startswith(k[:-1])]
            return self._routes[max(prefixes, key=len)] if prefixes else self.default

    def _reply_for(self, request: RecordedRequest) -> Reply:
        route = self._find_route(request.route_path)
        if isinstance(route, Reply):
            return route
        if isinstance(route, _Sequence):
            with self._lock:
                reply = route.items[min(route.served, len(route.items) - 1)]
                route.served += 1
            return reply
        try:
            return route(request)
        except Exception as exc:
            self.errors.append(exc)
            return Reply(500, f"handler failed: {exc!r}", content_type="text/plain")

