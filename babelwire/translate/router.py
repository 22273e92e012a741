"""The router: which engine, or chain of engines through pivot languages, translates a pair.

Routes are ranked by their estimated quality (chrF), from the measured quality table
(`quality`): each hop takes its best engine, a route's estimate comes from its hops, and a
two-hop route through strong pairs beats a one-hop route through a weak one. A route
estimated below `quality.MIN_QUALITY` is not offered. A per-pair preference from the settings
puts one engine first on that pair whatever its measured quality.

Engines that gain pairs while running (a model installed into the models directory) are
seen at the next lookup: the routes are worked out again whenever an engine's pairs change.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from babelwire.translate import quality as q
from babelwire.translate.base import Engine, Pair
from babelwire.translate.quality import QualityTable, canonical

MAX_HOPS = 4


@dataclass(frozen=True)
class Hop:
    source: str
    target: str
    engine: Engine
    quality: float = 0.0  # chrF of this engine on this pair (measured, or the prior)
    measured: bool = False


@dataclass(frozen=True)
class Route:
    hops: tuple[Hop, ...]
    quality: float = 0.0  # chrF of the whole route: measured, or estimated from its hops
    measured: bool = False  # `quality` was measured (a direct pair, or the route end to end)

    @property
    def source(self) -> str:
        return self.hops[0].source

    @property
    def target(self) -> str:
        return self.hops[-1].target

    @property
    def path(self) -> list[str]:
        return [self.hops[0].source, *(h.target for h in self.hops)]

    @property
    def engine_names(self) -> list[str]:
        return list(dict.fromkeys(h.engine.name for h in self.hops))

    def describe(self) -> str:
        return " → ".join(self.path) + " (" + ", ".join(
            f"{h.source}→{h.target} {h.engine.name}" for h in self.hops) + \
            f"; chrF {'' if self.measured else '≈'}{self.quality:.0f})"


def parse_preferences(items: Iterable[str]) -> dict[Pair, str]:
    """"fr-en=argos" entries -> {("fr", "en"): "argos"}."""
    prefs: dict[Pair, str] = {}
    for item in items:
        pair, _, engine = item.partition("=")
        src, _, tgt = pair.partition("-")
        if not (src and tgt and engine):
            raise ValueError(f"engine preference {item!r} is not like fr-en=argos")
        prefs[(canonical(src), canonical(tgt))] = engine.strip()
    return prefs


class Router:
    def __init__(self, engines: Sequence[Engine], *,
                 preferences: Mapping[Pair, str] | None = None,
                 table: QualityTable | None = None,
                 min_quality: float = q.MIN_QUALITY) -> None:
        self.engines = list(engines)
        self.preferences = dict(preferences or {})
        self.table = table if table is not None else q.load_table()
        self.min_quality = min_quality
        self._lock = threading.Lock()
        self._signature: tuple[frozenset[Pair], ...] | None = None
        self._edges: dict[Pair, list[Hop]] = {}
        self._cache: dict[tuple[str, str, str | None], list[Route]] = {}

    # -- the graph ----------------------------------------------------------------------

    def _graph(self) -> dict[Pair, list[Hop]]:
        """Direct pairs and their engines as hops, best first; rebuilt when pairs change."""
        signature = tuple(engine.pairs() for engine in self.engines)
        with self._lock:
            if signature != self._signature:
                order = {e.name: i for i, e in enumerate(self.engines)}
                edges: dict[Pair, list[Hop]] = {}
                for engine, pairs in zip(self.engines, signature, strict=True):
                    for a, b in pairs:
                        a, b = canonical(a), canonical(b)
                        edges.setdefault((a, b), []).append(Hop(
                            a, b, engine, self.table.hop(engine.name, a, b),
                            self.table.is_measured(engine.name, a, b)))
                for pair, hops in edges.items():
                    preferred = self.preferences.get(pair)
                    hops.sort(key=lambda h: (h.engine.name != preferred, -h.quality,
                                             -h.engine.quality, order[h.engine.name]))
                self._edges, self._signature = edges, signature
                self._cache = {}
            return self._edges

    def pairs(self) -> dict[Pair, list[Engine]]:
        """Direct pairs and their engines, best first."""
        return {p: [h.engine for h in hops] for p, hops in sorted(self._graph().items())}

    def hops(self) -> dict[Pair, list[Hop]]:
        """Direct pairs with each engine's quality, best first."""
        return {p: list(hops) for p, hops in sorted(self._graph().items())}

    def languages(self) -> set[str]:
        return {lang for pair in self._graph() for lang in pair}

    # -- routes -------------------------------------------------------------------------

    def routes(self, source: str, target: str, *, engine: str | None = None,
               limit: int = 3, min_quality: float | None = None) -> list[Route]:
        """The best routes from source to target, best first (at most `limit`). Routes whose
        estimated chrF is under `min_quality` (default: the router's) are left out."""
        source, target = canonical(source), canonical(target)
        if source == target:
            return []
        floor = self.min_quality if min_quality is None else min_quality
        edges = self._graph()
        key = (source, target, engine)
        with self._lock:
            ranked = self._cache.get(key)
        if ranked is None:
            ranked = self._rank(source, target, engine, edges)
            with self._lock:
                self._cache[key] = ranked
        return [r for r in ranked if r.quality >= floor][:limit]

    def route(self, source: str, target: str, *, engine: str | None = None,
              min_quality: float | None = None) -> Route | None:
        routes = self.routes(source, target, engine=engine, limit=1, min_quality=min_quality)
        return routes[0] if routes else None

    def _score(self, hops: Sequence[Hop]) -> tuple[float, bool]:
        """A route's chrF: measured end to end when the table has it, else estimated."""
        names = {h.engine.name for h in hops}
        if len(hops) > 1 and len(names) == 1:
            whole = self.table.route(names.pop(), [hops[0].source, *(h.target for h in hops)])
            if whole is not None:
                return whole.chrf, True
        return q.estimate([h.quality for h in hops]), all(h.measured for h in hops) \
            and len(hops) == 1

    def _rank(self, source: str, target: str, engine: str | None,
              edges: Mapping[Pair, list[Hop]]) -> list[Route]:
        usable = {p: [h for h in hops if engine is None or h.engine.name == engine]
                  for p, hops in edges.items()}
        out: dict[str, list[str]] = {}
        for (a, b), hops in usable.items():
            if hops:
                out.setdefault(a, []).append(b)
        # A path ranks by its best choice of engines (a preferred engine counts as best);
        # its alternatives (runner-up engines, for segments the best one fails) follow it.
        found: list[tuple[tuple[float, int, int], Route]] = []
        for langs in _paths(source, target, out):
            choices = _hop_choices(langs, usable)
            scored = [self._score(hops) for hops in choices]
            for rank, (hops, (quality, measured)) in enumerate(zip(choices, scored,
                                                                   strict=True)):
                route = Route(tuple(hops), quality, measured)
                found.append(((-scored[0][0], len(hops), rank), route))
        found.sort(key=lambda item: item[0])
        return [r for _, r in found]


def _paths(source: str, target: str, out: Mapping[str, list[str]]) -> list[list[str]]:
    """Every simple path of at most MAX_HOPS hops from source to target."""
    paths: list[list[str]] = []
    stack: list[list[str]] = [[source]]
    while stack:
        path = stack.pop()
        for nxt in out.get(path[-1], ()):
            if nxt == target:
                paths.append([*path, nxt])
            elif nxt not in path and len(path) < MAX_HOPS:
                stack.append([*path, nxt])
    return paths


def _hop_choices(langs: list[str], edges: Mapping[Pair, list[Hop]]) -> list[list[Hop]]:
    # The best engine per hop, plus the runner-up on each hop as an alternative route
    # (used when the best engine fails on a segment).
    pairs = list(itertools.pairwise(langs))
    best = [edges[p][0] for p in pairs]
    choices = [best]
    for i, p in enumerate(pairs):
        for alt in edges[p][1:2]:
            choices.append([*best[:i], alt, *best[i + 1:]])
    return choices
