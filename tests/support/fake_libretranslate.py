"""A stand-in LibreTranslate server on 127.0.0.1, implementing its documented HTTP API.

A real LibreTranslate cannot run here (its Argos models cannot be downloaded), so contract
tests talk to this instead. It answers like LibreTranslate does:

- ``GET /languages`` -> ``[{"code", "name", "targets"}]``;
- ``POST /translate`` (JSON or form) with ``q`` (a string or a list), ``source``,
  ``target``, ``format`` ("text" or "html"), ``api_key`` ->
  ``{"translatedText": str | [str]}``;
- errors as ``{"error": "..."}``: 400 for bad requests (missing q, unsupported language or
  format, text over the character limit, a key required but absent), 403 for a wrong API
  key, 429 when rate limited, 500 when "translation" fails;
- ``GET /health`` -> ``{"status": "ok"}``, ``GET /spec`` -> a swagger stub with a version.

The "translation" is trivial and deterministic: words found in a small table are replaced,
other words are written backwards ("Hello world" -> "Hola mundo", "news" -> "swen").
Knobs for tests: any text containing ``FAIL!`` makes its whole request fail with a 500;
``EMPTY!`` comes back as an empty string (a broken engine); `rate_limit(n)` answers the next
n translate requests with 429. Every request is recorded in `requests`.

Usage::

    with FakeLibreTranslate(api_keys={"secret"}) as server:
        engine = LibreTranslateEngine(server.url, api_key="secret")
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

__all__ = ["FakeLibreTranslate", "LoggedRequest"]

LANGUAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "en": ("English", ("es", "fr", "zt")),
    "es": ("Spanish", ("en",)),
    "fr": ("French", ("en",)),
    "zt": ("Chinese (traditional)", ("en",)),
}

WORDS: dict[tuple[str, str], dict[str, str]] = {
    ("en", "es"): {"hello": "hola", "world": "mundo", "the": "el", "cat": "gato",
                   "is": "es", "good": "bueno", "news": "noticias", "today": "hoy"},
    ("en", "fr"): {"hello": "bonjour", "world": "monde", "the": "le", "cat": "chat"},
    ("es", "en"): {"hola": "hello", "mundo": "world", "el": "the", "gato": "cat"},
}

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def fake_translate(text: str, source: str, target: str) -> str:
    table = WORDS.get((source, target), {})

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        found = table.get(word.lower())
        if found is None:
            return word[::-1]
        return found.capitalize() if word[0].isupper() else found

    return _WORD_RE.sub(swap, text.strip())


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    data: Mapping[str, Any]  # the decoded JSON or form body


@dataclass
class _State:
    api_keys: frozenset[str]
    char_limit: int
    rate_limited: int = 0
    retry_after: str | None = None
    requests: list[LoggedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _log(self, data: Mapping[str, Any]) -> None:
        with self.server.state.lock:
            self.server.state.requests.append(LoggedRequest(self.command, self.path, data))

    def do_GET(self) -> None:
        self._log({})
        if self.path == "/languages":
            self._send(200, [{"code": code, "name": name, "targets": list(targets)}
                             for code, (name, targets) in LANGUAGES.items()])
        elif self.path == "/health":
            self._send(200, {"status": "ok"})
        elif self.path == "/spec":
            self._send(200, {"swagger": "2.0", "info": {"title": "LibreTranslate",
                                                        "version": "1.6.0-fake"}})
        else:
            self._send(404, {"error": "Not Found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        data: dict[str, Any]
        if (self.headers.get("Content-Type") or "").startswith("application/json"):
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                self._log({})
                self._send(400, {"error": "Invalid JSON format"})
                return
            data = body
        else:
            data = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        self._log(data)
        if self.path != "/translate":
            self._send(404, {"error": "Not Found"})
            return
        status, reply, headers = self._translate(data)
        self._send(status, reply, headers)

    def _translate(self, data: Mapping[str, Any]
                   ) -> tuple[int, Any, Mapping[str, str] | None]:
        state = self.server.state
        with state.lock:
            if state.rate_limited > 0:
                state.rate_limited -= 1
                headers = {"Retry-After": state.retry_after} if state.retry_after else None
                return 429, {"error": "Too many request limits violations"}, headers
        if state.api_keys:
            key = data.get("api_key")
            if not key:
                return 400, {"error": "Please contact the server operator to get an API key"}, None
            if key not in state.api_keys:
                return 403, {"error": "Invalid API key"}, None
        q = data.get("q")
        if not q:
            return 400, {"error": "Invalid request: missing q parameter"}, None
        for name in ("source", "target"):
            if not data.get(name):
                return 400, {"error": f"Invalid request: missing {name} parameter"}, None
        source, target = data["source"], data["target"]
        for code in (source, target):
            if code not in LANGUAGES:
                return 400, {"error": f"{code} is not supported"}, None
        if target not in LANGUAGES[source][1]:
            return 400, {"error": f"{target} is not supported"}, None
        fmt = data.get("format", "text")
        if fmt not in ("text", "html"):
            return 400, {"error": f"{fmt} format is not supported"}, None
        texts: Iterable[Any] = q if isinstance(q, list) else [q]
        texts = list(texts)
        if not all(isinstance(t, str) for t in texts):
            return 400, {"error": "Invalid request: q must be a string or a list of strings"}, None
        chars = sum(len(t) for t in texts)
        if 0 < state.char_limit < chars:
            return 400, {"error": f"Invalid request: request ({chars}) exceeds text limit "
                                  f"({state.char_limit})"}, None
        if any("FAIL!" in t for t in texts):
            return 500, {"error": "Cannot translate text: forced failure"}, None
        out = ["" if "EMPTY!" in t else fake_translate(t, source, target) for t in texts]
        return 200, {"translatedText": out if isinstance(q, list) else out[0]}, None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class FakeLibreTranslate:
    """Start on enter (127.0.0.1, a free port), stop on exit."""

    def __init__(self, *, api_keys: Iterable[str] = (), char_limit: int = 0) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = _State(frozenset(api_keys), char_limit)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._server.state.lock:
            return list(self._server.state.requests)

    def translate_requests(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.path == "/translate"]

    def rate_limit(self, count: int, retry_after: str | None = None) -> None:
        """Answer the next `count` translate requests with 429."""
        with self._server.state.lock:
            self._server.state.rate_limited = count
            self._server.state.retry_after = retry_after

    def start(self) -> FakeLibreTranslate:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeLibreTranslate:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
