"""The router: which engine, or chain of engines through a pivot language, translates a pair.

A direct pair comes first; else the shortest pivot chain (fr→es→en, pt→es→ca, …). Among
routes of equal length the better engines win (the weakest hop counts, then the sum), and
a per-pair preference from the settings overrides the ranking for that pair.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from babelwire.translate.base import Engine, Pair

MAX_HOPS = 3


@dataclass(frozen=True)
class Hop:
    source: str
    target: str
    engine: Engine


@dataclass(frozen=True)
class Route:
    hops: tuple[Hop, ...]

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
            f"{h.source}→{h.target} {h.engine.name}" for h in self.hops) + ")"


def parse_preferences(items: Iterable[str]) -> dict[Pair, str]:
    """"fr-en=argos" entries -> {("fr", "en"): "argos"}."""
    prefs: dict[Pair, str] = {}
    for item in items:
        pair, _, engine = item.partition("=")
        src, _, tgt = pair.partition("-")
        if not (src and tgt and engine):
            raise ValueError(f"engine preference {item!r} is not like fr-en=argos")
        prefs[(src.strip().lower(), tgt.strip().lower())] = engine.strip()
    return prefs


class Router:
    def __init__(self, engines: Sequence[Engine], *,
                 preferences: Mapping[Pair, str] | None = None) -> None:
        self.engines = list(engines)
        self.preferences = dict(preferences or {})
        order = {e.name: i for i, e in enumerate(self.engines)}
        self._edges: dict[Pair, list[Engine]] = {}
        for engine in self.engines:
            for pair in engine.pairs():
                self._edges.setdefault(pair, []).append(engine)
        for pair, candidates in self._edges.items():
            preferred = self.preferences.get(pair)
            candidates.sort(key=lambda e: (e.name != preferred, -e.quality, order[e.name]))

    def pairs(self) -> dict[Pair, list[Engine]]:
        """Direct pairs and their engines, best first."""
        return {p: list(es) for p, es in sorted(self._edges.items())}

    def languages(self) -> set[str]:
        return {lang for pair in self._edges for lang in pair}

    def routes(self, source: str, target: str, *, engine: str | None = None,
               limit: int = 3) -> list[Route]:
        """The best routes from source to target, best first (at most `limit`)."""
        if source == target:
            return []
        edges = {p: [e for e in es if engine is None or e.name == engine]
                 for p, es in self._edges.items()}
        edges = {p: es for p, es in edges.items() if es}
        # Paths of one length are ranked by their best engines (weakest hop, then the sum);
        # a path's alternatives (runner-up engines) come right after it, in ranking order.
        found: list[tuple[tuple[int, int, int, int], Route]] = []
        for length in range(1, MAX_HOPS + 1):
            for langs in self._paths(source, target, length, edges):
                choices = self._hop_choices(langs, edges)
                qualities = [h.engine.quality for h in choices[0]]
                for rank, hops in enumerate(choices):
                    score = (length, -min(qualities), -sum(qualities), rank)
                    found.append((score, Route(tuple(hops))))
            if found:
                break
        found.sort(key=lambda item: item[0])
        return [r for _, r in found[:limit]]

    def route(self, source: str, target: str, *, engine: str | None = None) -> Route | None:
        routes = self.routes(source, target, engine=engine, limit=1)
        return routes[0] if routes else None

    @staticmethod
    def _paths(source: str, target: str, length: int,
               edges: Mapping[Pair, list[Engine]]) -> list[list[str]]:
        paths: list[list[str]] = [[source]]
        for _ in range(length):
            paths = [[*p, b] for p in paths for (a, b) in edges if a == p[-1] and b not in p]
        return [p for p in paths if p[-1] == target]

    @staticmethod
    def _hop_choices(langs: list[str], edges: Mapping[Pair, list[Engine]]) -> list[list[Hop]]:
        # The best engine per hop, plus the runner-up on each hop as an alternative route
        # (used when the best engine fails on a segment).
        best = [Hop(a, b, edges[(a, b)][0]) for a, b in itertools.pairwise(langs)]
        choices = [best]
        for i, (a, b) in enumerate(itertools.pairwise(langs)):
            for alt in edges[(a, b)][1:2]:
                choices.append([*best[:i], Hop(a, b, alt), *best[i + 1:]])
        return choices
