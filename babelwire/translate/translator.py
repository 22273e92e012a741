"""Translating texts through the router, the translation memory and the engines, with
no silent loss: a sentence that no route can translate is kept in the original language
and flagged, and the log says which engine failed and why."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from babelwire.translate.base import Engine, EngineError, Translated
from babelwire.translate.router import Route, Router
from babelwire.translate.segment import Piece, join, split_sentences

if TYPE_CHECKING:  # the memory needs the store (SQLAlchemy): not imported without one
    from babelwire.translate.memory import TranslationMemory

log = logging.getLogger("babelwire.translate")
BATCH = 1000  # segments per engine call (engines stream them; a pipeline drains between calls)


class NoRoute(LookupError):
    """No installed engine, direct or through a pivot, translates this pair."""

    def __init__(self, source: str, target: str, available: list[str]) -> None:
        self.source, self.target, self.available = source, target, available
        listed = ", ".join(available) if available else "none"
        super().__init__(f"no translation route from {source!r} to {target!r}; "
                         f"available routes: {listed}")


@dataclass(frozen=True)
class TextResult:
    text: str  # the translation, with any untranslatable sentence kept in the original
    flagged: bool  # True when some sentence is kept in the original
    flagged_sentences: int = 0
    errors: tuple[str, ...] = ()


@dataclass
class TranslationRun:
    results: list[TextResult]
    route: Route
    engines: list[str] = field(default_factory=list)  # "apertium 3.8.3", each engine used
    segments: int = 0
    memory_hits: int = 0

    @property
    def flagged(self) -> int:
        return sum(r.flagged_sentences for r in self.results)


def engine_id(engine: Engine, source: str | None = None, target: str | None = None) -> str:
    """"apertium 3.8.3; eng-spa 0.8.1": what a translation depends on. An engine that
    versions its pairs separately (Apertium: one data package per pair) names the pair's."""
    pair_version = getattr(engine, "pair_version", None)
    if source is not None and target is not None and callable(pair_version):
        return f"{engine.name} {pair_version(source, target)}"[:100]
    return f"{engine.name} {engine.version()}"[:100]


def _count(engine: str, batch: Sequence[str], seconds: float) -> None:
    """Into the Prometheus counters, in processes that export them (the website, workers:
    they have imported babelwire.metrics); `babelwire translate` does not pay the import."""
    metrics = sys.modules.get("babelwire.metrics")
    if metrics is not None:
        metrics.TRANSLATE_SECONDS.labels(engine).inc(seconds)
        metrics.TRANSLATED_WORDS.labels(engine).inc(sum(len(t.split()) for t in batch))


class Translator:
    """Routes, memory and engines together. Thread-safe; engines are shared."""

    def __init__(self, router: Router, memory: TranslationMemory | None = None) -> None:
        self.router = router
        self.memory = memory
        self._lock = threading.Lock()

    def available_routes(self) -> list[str]:
        return [f"{a}→{b}" for (a, b) in self.router.pairs()]

    def has_route(self, source: str, target: str) -> bool:
        return source == target or self.router.route(source, target) is not None

    def translate(self, texts: Sequence[str], source: str, target: str, *,
                  engine: str | None = None) -> TranslationRun:
        """Translate each text (a block, a title, a line); one result per text, in order."""
        routes = self.router.routes(source, target, engine=engine)
        if not routes:
            raise NoRoute(source, target, self.available_routes())
        splits: list[list[Piece]] = [split_sentences(t) for t in texts]
        unique = list(dict.fromkeys(p.text for pieces in splits for p in pieces
                                    if p.text.strip()))
        done: dict[str, str] = {}
        errors: dict[str, list[str]] = {}
        used: list[str] = []
        hits = 0
        todo = unique
        for route in routes:  # the best route first; the others only for what it failed
            if not todo:
                break
            out, errs, route_hits = self._through(route, todo)
            hits += route_hits
            used.extend(engine_id(h.engine, h.source, h.target) for h in route.hops)
            for sentence in todo:
                if sentence in out:
                    done[sentence] = out[sentence]
                else:
                    errors.setdefault(sentence, []).append(errs.get(sentence, "failed"))
            todo = [s for s in todo if s not in done]
        for sentence in todo:
            log.warning("kept untranslated (%s→%s): %r: %s", source, target, sentence[:80],
                        "; ".join(errors.get(sentence, [])))
        results = []
        for pieces in splits:
            texts_out, flagged, errs_out = [], 0, []
            for piece in pieces:
                if not piece.text.strip():
                    texts_out.append(piece.text)
                elif piece.text in done:
                    texts_out.append(done[piece.text])
                else:
                    texts_out.append(piece.text)
                    flagged += 1
                    errs_out.extend(errors.get(piece.text, []))
            results.append(TextResult(join(pieces, texts_out), flagged > 0, flagged,
                                      tuple(dict.fromkeys(errs_out))))
        return TranslationRun(results, routes[0], list(dict.fromkeys(used)), len(unique), hits)

    def _through(self, route: Route, sentences: list[str]
                 ) -> tuple[dict[str, str], dict[str, str], int]:
        """Run sentences along a route, hop by hop; returns (done, errors, memory hits)."""
        current = {s: s for s in sentences}  # original -> text at this hop
        errors: dict[str, str] = {}
        hits = 0
        for hop in route.hops:
            originals = list(current)
            inputs = [current[o] for o in originals]
            eid = engine_id(hop.engine, hop.source, hop.target)
            outputs: list[str | None] = [None] * len(inputs)
            if self.memory is not None:
                remembered = self.memory.lookup(eid, hop.source, hop.target, inputs)
                hits += len(remembered)
                for i, text in remembered.items():
                    outputs[i] = text
            missing = [i for i, o in enumerate(outputs) if o is None]
            fresh: list[tuple[str, str]] = []
            for start in range(0, len(missing), BATCH):
                idx = missing[start:start + BATCH]
                batch = [inputs[i] for i in idx]
                t0 = time.monotonic()
                try:
                    got = hop.engine.translate(batch, hop.source, hop.target)
                except EngineError as exc:
                    got = [Translated(None, f"{hop.engine.name}: {exc}")] * len(batch)
                _count(hop.engine.name, batch, time.monotonic() - t0)
                if len(got) != len(batch):  # an engine bug must not shift sentences
                    got = [Translated(None, f"{hop.engine.name} returned {len(got)} results "
                                            f"for {len(batch)} segments")] * len(batch)
                for i, res in zip(idx, got, strict=True):
                    if res.text is not None and (res.text.strip() or not inputs[i].strip()):
                        outputs[i] = res.text
                        fresh.append((inputs[i], res.text))
                    else:
                        errors[originals[i]] = (f"{hop.engine.name} {hop.source}→{hop.target}: "
                                                f"{res.error or 'empty output'}")
            if self.memory is not None and fresh:
                self.memory.store(eid, hop.source, hop.target, fresh)
            current = {o: out for o, out in zip(originals, outputs, strict=True)
                       if out is not None}
        return current, errors, hits
