"""Translation through a LibreTranslate server, over its documented HTTP API.

- ``GET /languages`` -> ``[{"code": "en", "name": "English", "targets": ["es", ...]}]``
  gives the pairs (cached for `LANGUAGES_TTL` seconds);
- ``POST /translate`` with JSON ``{"q": str | [str], "source", "target", "format": "text",
  "api_key"}`` -> ``{"translatedText": str | [str]}``; errors are ``{"error": "..."}`` with
  HTTP 400/403/429/500.

Segments go in batches (a list ``q``). When a batch fails, each of its segments is sent
alone, so one bad segment fails alone. A 429 is waited out once (``Retry-After`` or
`backoff` seconds) and then the batch is marked failed: rate limits are the server's to set.

What raises `EngineError` (the engine as a whole is unusable): the server cannot be
reached, or it refuses the API key (403, or a 400 asking for a key). Everything else
fails segments.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from babelwire.translate.base import EngineError, Health, Pair, Translated
from babelwire.translate.models import argos_code_to_bcp47

__all__ = ["LibreTranslateEngine"]

log = logging.getLogger(__name__)

LANGUAGES_TTL = 300.0
MAX_RETRY_AFTER = 60.0  # longest wait honoured for a 429


class _RequestFailed(Exception):
    """One request failed; its segments may succeed when sent alone."""


class _RateLimited(Exception):
    """429 again after waiting: the batch is failed, not split into more requests."""


@dataclass(frozen=True)
class _Languages:
    codes: dict[str, str]  # BCP 47 -> server code
    pairs: frozenset[Pair]
    fetched: float


def _split_space(segment: str) -> tuple[str, str, str]:
    core = segment.strip()
    if not core:
        return segment, "", ""
    start = segment.index(core)
    return segment[:start], core, segment[start + len(core):]


class LibreTranslateEngine:
    """A LibreTranslate server at `base_url` (e.g. ``http://127.0.0.1:5000``)."""

    name = "libretranslate"
    quality = 15

    def __init__(self, base_url: str, *, api_key: str = "", timeout: float = 30.0,
                 max_batch_segments: int = 32, max_batch_chars: int = 4000,
                 backoff: float = 2.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_batch_segments = max(1, max_batch_segments)
        self.max_batch_chars = max(1, max_batch_chars)
        self.backoff = backoff
        self._client = httpx.Client(
            base_url=self.base_url, transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"Accept": "application/json"})
        self._lock = threading.Lock()
        self._languages: _Languages | None = None

    # -- languages --------------------------------------------------------------------

    def _get_languages(self, *, refresh: bool = False) -> _Languages:
        with self._lock:
            cached = self._languages
            if (cached is not None and not refresh
                    and time.monotonic() - cached.fetched < LANGUAGES_TTL):
                return cached
        try:
            response = self._client.get("/languages")
        except httpx.HTTPError as exc:
            raise EngineError(f"LibreTranslate at {self.base_url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise EngineError(f"LibreTranslate /languages: HTTP {response.status_code}")
        try:
            entries = response.json()
        except ValueError as exc:
            raise EngineError(f"LibreTranslate /languages: not JSON: {exc}") from exc
        if not isinstance(entries, list):
            raise EngineError("LibreTranslate /languages: not a list")
        codes: dict[str, str] = {}
        targets_of: dict[str, list[str]] = {}
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
                continue
            code = entry["code"]
            codes[argos_code_to_bcp47(code)] = code
            targets = entry.get("targets")
            targets_of[code] = [t for t in targets if isinstance(t, str)] \
                if isinstance(targets, list) else []
        pairs = frozenset(
            (argos_code_to_bcp47(src), argos_code_to_bcp47(tgt))
            for src, tgts in targets_of.items() for tgt in tgts if tgt != src)
        languages = _Languages(codes, pairs, time.monotonic())
        with self._lock:
            self._languages = languages
        return languages

    # -- Engine -----------------------------------------------------------------------

    def pairs(self) -> frozenset[Pair]:
        """The server's pairs; empty while it cannot be reached."""
        try:
            return self._get_languages().pairs
        except EngineError as exc:
            log.warning("%s", exc)
            return frozenset()

    def version(self) -> str:
        """The version the server's API spec declares (``GET /spec``), if any."""
        try:
            response = self._client.get("/spec")
            info = response.json().get("info", {}) if response.status_code == 200 else {}
            found = info.get("version") if isinstance(info, dict) else None
        except (httpx.HTTPError, ValueError, AttributeError):
            found = None
        return f"libretranslate {found or 'unknown'} at {self.base_url}"

    def health(self) -> Health:
        try:
            languages = self._get_languages(refresh=True)
        except EngineError as exc:
            return Health(False, str(exc))
        if not languages.pairs:
            return Health(False, f"LibreTranslate at {self.base_url} offers no language pairs")
        return Health(True, f"{len(languages.pairs)} pairs at {self.base_url}")

    def close(self) -> None:
        self._client.close()

    def translate(self, segments: Sequence[str], source: str, target: str
                  ) -> list[Translated]:
        languages = self._get_languages()  # raises EngineError when the server is down
        if (source, target) not in languages.pairs:
            return [Translated(None, f"libretranslate: pair {source}-{target} not offered")
                    for _ in segments]
        src, tgt = languages.codes[source], languages.codes[target]
        results: list[Translated | None] = [None] * len(segments)
        work: list[tuple[int, str, str, str]] = []
        for i, segment in enumerate(segments):
            lead, core, trail = _split_space(segment)
            if not core:
                results[i] = Translated(segment)  # nothing to translate
            else:
                work.append((i, lead, core, trail))
        for chunk in self._chunks(work):
            outcomes = self._translate_chunk([core for _, _, core, _ in chunk], src, tgt)
            for (i, lead, _, trail), outcome in zip(chunk, outcomes, strict=True):
                results[i] = (Translated(lead + outcome.text + trail) if outcome.text is not None
                              else outcome)
        return [r if r is not None else Translated(None, "libretranslate: no result")
                for r in results]

    # -- requests ---------------------------------------------------------------------

    def _chunks(self, work: list[tuple[int, str, str, str]]
                ) -> Iterator[list[tuple[int, str, str, str]]]:
        chunk: list[tuple[int, str, str, str]] = []
        size = 0
        for item in work:
            if chunk and (len(chunk) >= self.max_batch_segments
                          or size + len(item[2]) > self.max_batch_chars):
                yield chunk
                chunk, size = [], 0
            chunk.append(item)
            size += len(item[2])
        if chunk:
            yield chunk

    def _translate_chunk(self, texts: list[str], src: str, tgt: str) -> list[Translated]:
        try:
            out = self._request(texts, src, tgt)
        except _RateLimited as exc:
            return [Translated(None, f"libretranslate: {exc}") for _ in texts]
        except _RequestFailed as exc:
            if len(texts) == 1:
                return [Translated(None, f"libretranslate: {exc}")]
            log.info("LibreTranslate batch of %d failed (%s); sending one by one",
                     len(texts), exc)
            return [self._translate_chunk([text], src, tgt)[0] for text in texts]
        outcomes = []
        for text, translated in zip(texts, out, strict=True):
            if not translated.strip():
                outcomes.append(Translated(None, "libretranslate: empty output for non-empty "
                                                 f"input ({len(text)} characters)"))
            else:
                outcomes.append(Translated(translated.strip()))
        return outcomes

    def _request(self, texts: list[str], src: str, tgt: str) -> list[str]:
        payload: dict[str, Any] = {"q": texts if len(texts) > 1 else texts[0],
                                   "source": src, "target": tgt, "format": "text"}
        if self.api_key:
            payload["api_key"] = self.api_key
        response = self._post(payload)
        if response.status_code == 429:
            wait = self._retry_after(response)
            log.info("LibreTranslate rate limit: waiting %.1fs once", wait)
            time.sleep(wait)
            response = self._post(payload)
            if response.status_code == 429:
                raise _RateLimited(f"rate limited (HTTP 429): {_error_text(response)}")
        if response.status_code == 403 or (
                response.status_code == 400 and "api key" in _error_text(response).lower()):
            raise EngineError(f"LibreTranslate refused the API key: {_error_text(response)}")
        if response.status_code != 200:
            raise _RequestFailed(f"HTTP {response.status_code}: {_error_text(response)}")
        try:
            translated = response.json().get("translatedText")
        except (ValueError, AttributeError) as exc:
            raise _RequestFailed(f"bad response: {exc}") from exc
        if isinstance(translated, str):
            translated = [translated]
        if (not isinstance(translated, list) or len(translated) != len(texts)
                or not all(isinstance(t, str) for t in translated)):
            raise _RequestFailed(f"bad response: expected {len(texts)} translations")
        return translated

    def _post(self, payload: dict[str, Any]) -> httpx.Response:
        try:
            return self._client.post("/translate", json=payload)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise EngineError(f"LibreTranslate at {self.base_url} unreachable: {exc}") from exc
        except httpx.HTTPError as exc:  # read timeout, dropped connection: this request
            raise _RequestFailed(f"{type(exc).__name__}: {exc}") from exc

    def _retry_after(self, response: httpx.Response) -> float:
        value = response.headers.get("Retry-After", "")
        try:
            seconds = float(value)
        except ValueError:
            seconds = self.backoff
        return max(0.0, min(seconds, MAX_RETRY_AFTER))


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.text[:200]
