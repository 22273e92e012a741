"""Translation through an Apertium-APy server, which keeps Apertium pipelines warm.

APy's HTTP API:

- ``GET /listPairs`` -> ``{"responseData": [{"sourceLanguage": "eng", "targetLanguage":
  "spa"}, ...]}``; codes are ISO 639-3 (sometimes 639-1, sometimes with a variant:
  ``cat_valencia``, ``por_BR``). They are mapped to BCP 47 primary subtags here; a pair
  offered both plain and as variants uses the plain mode.
- ``POST /translate`` with ``langpair=eng|spa``, ``q``, ``markUnknown=no``, ``format=txt``
  -> ``{"responseData": {"translatedText": ...}}``; errors are HTTP 400 (pair not
  installed) or 503 (pipeline stuck or timed out).

APy takes one ``q`` per request. Measured with apertium-eng-spa on 2 cores, 100 short
sentences: one request each took 1.9 s sequentially and 1.6 s with 8 in flight (APy runs
one pipeline per pair), while the same sentences joined by a blank line in one request took
0.15 s and split back exactly. So segments are joined with ``"\\n\\n"`` (which Apertium's
text format keeps) into batches; a batch whose output does not split back into as many
non-empty parts, or that fails, is retried one segment per request (a few in flight), so a
bad segment fails alone. A segment that itself contains a blank line is always sent alone.

`translate` raises `EngineError` when the server cannot be reached; everything else fails
segments (``Translated(None, error)``): an unknown pair, an HTTP error, empty output for
non-empty input.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from babelwire.translate.base import EngineError, Health, Pair, Translated
from babelwire.translate.langcodes import to_bcp47

__all__ = ["ApyEngine", "apertium_code_to_bcp47"]

log = logging.getLogger(__name__)

SEPARATOR = "\n\n"
PAIRS_TTL = 300.0

def apertium_code_to_bcp47(code: str) -> str:
    """"eng" -> "en", "fr" -> "fr", "cat_valencia" -> "ca", "ast" -> "ast"."""
    return to_bcp47(code)


@dataclass(frozen=True)
class _Pairs:
    langpairs: dict[Pair, str]  # BCP 47 pair -> APy langpair ("eng|spa")
    fetched: float


@dataclass
class _Item:
    index: int
    lead: str
    core: str
    trail: str


class _Failed(Exception):
    """One request failed; the message says why."""


class ApyEngine:
    """An Apertium-APy server at `base_url` (e.g. ``http://127.0.0.1:2737``)."""

    name = "apy"
    quality = 10

    def __init__(self, base_url: str, *, timeout: float = 30.0, max_batch_chars: int = 20_000,
                 max_batch_segments: int = 200, concurrency: int = 4, text_format: str = "txt",
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_batch_chars = max(1, max_batch_chars)
        self.max_batch_segments = max(1, max_batch_segments)
        self.text_format = text_format
        self._client = httpx.Client(
            base_url=self.base_url, transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=max(concurrency, 1) + 2))
        self._pool = ThreadPoolExecutor(max_workers=max(concurrency, 1),
                                        thread_name_prefix="apy")
        self._lock = threading.Lock()
        self._pairs: _Pairs | None = None

    # -- pairs ------------------------------------------------------------------------

    def _get_pairs(self, *, refresh: bool = False) -> _Pairs:
        with self._lock:
            cached = self._pairs
            if cached is not None and not refresh and time.monotonic() - cached.fetched < PAIRS_TTL:
                return cached
        try:
            response = self._client.get("/listPairs")
        except httpx.HTTPError as exc:
            raise EngineError(f"APy at {self.base_url} unreachable: {exc}") from exc
        if response.status_code != 200:
            raise EngineError(f"APy /listPairs: HTTP {response.status_code}")
        try:
            entries = response.json().get("responseData")
        except (ValueError, AttributeError) as exc:
            raise EngineError(f"APy /listPairs: bad response: {exc}") from exc
        if not isinstance(entries, list):
            raise EngineError("APy /listPairs: no responseData list")
        options: dict[Pair, list[tuple[bool, str]]] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            src, tgt = entry.get("sourceLanguage"), entry.get("targetLanguage")
            if not isinstance(src, str) or not isinstance(tgt, str):
                continue
            pair = (apertium_code_to_bcp47(src), apertium_code_to_bcp47(tgt))
            if pair[0] == pair[1]:
                continue  # a variant-to-variant mode (e.g. spa -> spa_...) is not a pair
            variant = "_" in src or "_" in tgt
            options.setdefault(pair, []).append((variant, f"{src}|{tgt}"))
        langpairs = {pair: min(choices)[1] for pair, choices in options.items()}
        pairs = _Pairs(langpairs, time.monotonic())
        with self._lock:
            self._pairs = pairs
        return pairs

    # -- Engine -----------------------------------------------------------------------

    def pairs(self) -> frozenset[Pair]:
        """The server's pairs; empty while it cannot be reached."""
        try:
            return frozenset(self._get_pairs().langpairs)
        except EngineError as exc:
            log.warning("%s", exc)
            return frozenset()

    def version(self) -> str:
        # APy has no version endpoint; name the server instead.
        return f"apertium-apy at {self.base_url}"

    def health(self) -> Health:
        try:
            pairs = self._get_pairs(refresh=True)
        except EngineError as exc:
            return Health(False, str(exc))
        if not pairs.langpairs:
            return Health(False, f"APy at {self.base_url} has no translation pairs")
        return Health(True, f"{len(pairs.langpairs)} pairs at {self.base_url}")

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._client.close()

    def translate(self, segments: Sequence[str], source: str, target: str
                  ) -> list[Translated]:
        langpair = self._get_pairs().langpairs.get((source, target))
        if langpair is None:
            return [Translated(None, f"apy: pair {source}-{target} not offered")
                    for _ in segments]
        results: list[Translated | None] = [None] * len(segments)
        batchable: list[_Item] = []
        alone: list[_Item] = []
        for i, segment in enumerate(segments):
            core = segment.strip()
            if not core:
                results[i] = Translated(segment)  # nothing to translate
                continue
            start = segment.index(core)
            item = _Item(i, segment[:start], core, segment[start + len(core):])
            (alone if SEPARATOR in core else batchable).append(item)

        for batch in self._batches(batchable):
            parts = self._translate_joined(batch, langpair)
            retry = []
            for item, part in zip(batch, parts, strict=True):
                if part is None:
                    retry.append(item)
                else:
                    results[item.index] = Translated(item.lead + part + item.trail)
            alone.extend(retry)

        for item, outcome in zip(alone, self._pool.map(
                lambda it: self._translate_one(it, langpair), alone), strict=True):
            results[item.index] = outcome
        return [r if r is not None else Translated(None, "apy: no result") for r in results]

    # -- requests ---------------------------------------------------------------------

    def _batches(self, items: list[_Item]) -> Iterator[list[_Item]]:
        batch: list[_Item] = []
        size = 0
        for item in items:
            if batch and (len(batch) >= self.max_batch_segments
                          or size + len(item.core) > self.max_batch_chars):
                yield batch
                batch, size = [], 0
            batch.append(item)
            size += len(item.core) + len(SEPARATOR)
        if batch:
            yield batch

    def _translate_joined(self, batch: list[_Item], langpair: str) -> list[str | None]:
        """One request for the batch; None for each part that must be retried alone."""
        if len(batch) == 1:
            return [None]  # the single-segment path reports errors precisely
        try:
            text = self._request(SEPARATOR.join(item.core for item in batch), langpair)
        except _Failed as exc:
            log.info("APy batch of %d failed (%s); sending one by one", len(batch), exc)
            return [None] * len(batch)
        parts = [part.strip() for part in text.split(SEPARATOR)]
        if len(parts) != len(batch):
            log.info("APy batch of %d came back in %d parts; sending one by one",
                     len(batch), len(parts))
            return [None] * len(batch)
        return [part or None for part in parts]

    def _translate_one(self, item: _Item, langpair: str) -> Translated:
        try:
            text = self._request(item.core, langpair).strip()
        except _Failed as exc:
            return Translated(None, f"apy: {exc}")
        if not text:
            return Translated(None, f"apy: empty output for non-empty input "
                                    f"({len(item.core)} characters)")
        return Translated(item.lead + text + item.trail)

    def _request(self, text: str, langpair: str) -> str:
        data: dict[str, Any] = {"langpair": langpair, "q": text, "markUnknown": "no",
                                "format": self.text_format}
        try:
            response = self._client.post("/translate", data=data)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise EngineError(f"APy at {self.base_url} unreachable: {exc}") from exc
        except httpx.HTTPError as exc:  # read timeout, dropped connection: this request
            raise _Failed(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise _Failed(f"HTTP {response.status_code}: {_explanation(response)}")
        try:
            translated = response.json()["responseData"]["translatedText"]
        except (ValueError, KeyError, TypeError) as exc:
            raise _Failed(f"bad response: {exc!r}") from exc
        if not isinstance(translated, str):
            raise _Failed("bad response: translatedText is not a string")
        return translated


def _explanation(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("explanation") or body.get("message") or body)[:200]
    return response.text[:200]
