"""Translation reach: which of the catalogue's languages each reader language can be given,
by which route and at what estimated quality, and what an operator can do about the gaps.

`babelwire engines` prints it (and `--format json`), and `babelwire serve` says at start-up
which reader languages have no route and the one command that adds them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from babelwire.translate.quality import canonical
from babelwire.translate.router import Route, Router


@dataclass(frozen=True)
class Cell:
    source: str
    target: str
    route: Route | None  # the best offered route, None when none reaches the floor
    weak: Route | None = None  # the best route under the floor, when that is all there is

    def as_dict(self) -> dict[str, object]:
        best = self.route or self.weak
        return {"source": self.source, "target": self.target, "routed": self.route is not None,
                "path": best.path if best else None,
                "engines": [f"{h.source}-{h.target} {h.engine.name}" for h in best.hops]
                if best else None,
                "chrf": round(best.quality, 1) if best else None,
                "measured": best.measured if best else None}


@dataclass
class Reach:
    sources: list[str]  # catalogue languages
    readers: list[str]  # reader languages
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def routed(self) -> int:
        return sum(1 for c in self.cells.values() if c.route is not None)

    def reached_by(self, reader: str) -> list[str]:
        return [s for s in self.sources if s == reader or
                ((c := self.cells.get((s, reader))) is not None and c.route is not None)]

    def missing(self, reader: str) -> list[str]:
        return [s for s in self.sources if s != reader and s not in self.reached_by(reader)]

    def unserved(self) -> list[str]:
        """Reader languages that no other catalogue language reaches."""
        return [r for r in self.readers
                if not any(s != r for s in self.reached_by(r))]


def install_hint(readers: Iterable[str]) -> str:
    langs = ",".join(dict.fromkeys(readers))
    return f"babelwire models install --for {langs}"


def compute(router: Router, sources: Iterable[str], readers: Sequence[str]) -> Reach:
    src = sorted({canonical(s) for s in sources})
    rdr = [canonical(r) for r in dict.fromkeys(readers)]
    reach = Reach(src, rdr)
    for s in src:
        for r in rdr:
            if s == r:
                continue
            route = router.route(s, r)
            weak = None if route is not None else router.route(s, r, min_quality=0)
            reach.cells[(s, r)] = Cell(s, r, route, weak)
    return reach


def summary_lines(reach: Reach) -> list[str]:
    """What an operator should read first: readers left out, and the command that helps."""
    lines = []
    pairs = len(reach.cells)
    lines.append(f"translation reach: {reach.routed()} of {pairs} catalogue-language × "
                 f"reader-language pairs have a route (chrF ≥ the floor)")
    unserved = reach.unserved()
    if unserved:
        lines.append(f"reader languages no other catalogue language reaches: "
                     f"{', '.join(unserved)}; to add them (needs the network once): "
                     f"{install_hint(unserved)}")
    thin = [r for r in reach.readers if r not in unserved and reach.missing(r)]
    if thin:
        lines.append("reader languages that some catalogue languages do not reach: " +
                     "; ".join(f"{r} ({len(reach.missing(r))} missing)" for r in thin) +
                     f"; for more: {install_hint(thin)}")
    return lines
