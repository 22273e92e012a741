"""Measured translation quality per engine and pair: what the router ranks routes by.

The bundled table (`quality.json` beside this module) holds chrF on NTREX-128 for every
Apertium pair Debian ships whose two languages NTREX has, measured by
`benchmarks/translate_quality.py --write`. An operator's own measurements
(`<data_dir>/quality.json`, same format) take precedence. A hop nobody measured gets its
engine's prior: a deliberately modest guess, so that a measured route wins over an unknown one.

A route's quality is estimated from its hops: the weakest hop, less a share of what each
further hop loses (`PIVOT_LOSS`, fitted on the multi-hop routes measured on NTREX by
`benchmarks/translate_quality.py --routes`). A route estimated below `MIN_QUALITY` is not
offered as a translation: its output would not be readable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from babelwire.translate.langcodes import canonical

__all__ = ["MIN_QUALITY", "QualityTable", "canonical", "estimate", "load_table"]

log = logging.getLogger("babelwire.translate")

BUNDLED = Path(__file__).with_name("quality.json")
MIN_QUALITY = 30.0  # chrF below which a route is not offered
# Each hop after the weakest costs this share of what that hop itself loses (100 - chrF):
# fitted on 34 pivot routes measured on NTREX (benchmarks/translate_quality.py --routes; the
# median loss was 0.05-0.07 of it, the weakest hop alone a lower bound in half the cases).
PIVOT_LOSS = 0.05
# chrF assumed for a pair nobody measured, by engine. Apertium: the lower quartile of its
# measured pairs. Neural engines (Argos Translate / LibreTranslate models, OPUS-MT class):
# a modest figure under their published news scores; measure to replace it.
PRIORS: Mapping[str, float] = {"apertium": 40.0, "apy": 40.0, "argos": 55.0,
                               "libretranslate": 55.0}
DEFAULT_PRIOR = 40.0
# Engines that run another engine's data: APy serves the same Apertium pairs.
SAME_DATA: Mapping[str, str] = {"apy": "apertium"}


@dataclass(frozen=True)
class Measured:
    chrf: float
    lines: int = 0
    source: str = "bundled"  # bundled | local


@dataclass
class QualityTable:
    """chrF per (engine, source, target); `hop` answers for any pair, measured or not."""

    measured: dict[tuple[str, str, str], Measured] = field(default_factory=dict)
    data: str = ""
    # whole routes measured end to end: (engine, "da>sv>is>en") for routes of one engine
    routes: dict[tuple[str, str], Measured] = field(default_factory=dict)

    def route(self, engine: str, path: Sequence[str]) -> Measured | None:
        key = (engine, ">".join(canonical(p) for p in path))
        found = self.routes.get(key)
        if found is None and engine in SAME_DATA:
            found = self.routes.get((SAME_DATA[engine], key[1]))
        return found

    def get(self, engine: str, source: str, target: str) -> Measured | None:
        key = (engine, canonical(source), canonical(target))
        found = self.measured.get(key)
        if found is None and engine in SAME_DATA:
            found = self.measured.get((SAME_DATA[engine], key[1], key[2]))
        return found

    def hop(self, engine: str, source: str, target: str) -> float:
        found = self.get(engine, source, target)
        return found.chrf if found is not None else PRIORS.get(engine, DEFAULT_PRIOR)

    def is_measured(self, engine: str, source: str, target: str) -> bool:
        return self.get(engine, source, target) is not None

    def merge(self, other: QualityTable) -> QualityTable:
        return QualityTable({**self.measured, **other.measured}, other.data or self.data,
                            {**self.routes, **other.routes})


def estimate(hops: Sequence[float]) -> float:
    """A route's chrF from its hops' (see the module docstring). One hop: its own chrF."""
    if not hops:
        return 0.0
    weakest = min(hops)
    rest = sorted(hops)[1:]
    return max(0.0, weakest - PIVOT_LOSS * sum(100.0 - q for q in rest))


def parse_table(data: Mapping[str, object], *, origin: str = "bundled") -> QualityTable:
    """The JSON format: {"data": ..., "engines": {name: {"pairs": {"en-es": {"chrf": ..}}}}}."""
    table = QualityTable(data=str(data.get("data", "")))
    engines = data.get("engines", {})
    if not isinstance(engines, dict):
        raise ValueError("quality table: 'engines' is not an object")
    for name, entry in engines.items():
        pairs = entry.get("pairs", {}) if isinstance(entry, dict) else {}
        for pair, row in pairs.items():
            src, _, tgt = str(pair).partition("-")
            if not (src and tgt and isinstance(row, dict)):
                raise ValueError(f"quality table: bad entry {name} {pair!r}")
            chrf = row.get("chrf")
            if not isinstance(chrf, int | float):
                raise ValueError(f"quality table: {name} {pair} has no chrF")
            table.measured[(str(name), canonical(src), canonical(tgt))] = Measured(
                float(chrf), int(row.get("lines", 0) or 0), origin)
        routes = entry.get("routes", {}) if isinstance(entry, dict) else {}
        for path, row in routes.items():
            chrf = row.get("chrf") if isinstance(row, dict) else None
            if not isinstance(chrf, int | float) or ">" not in str(path):
                raise ValueError(f"quality table: bad route {name} {path!r}")
            key = ">".join(canonical(p) for p in str(path).split(">"))
            table.routes[(str(name), key)] = Measured(float(chrf),
                                                      int(row.get("lines", 0) or 0), origin)
    return table


@cache
def _bundled() -> QualityTable:
    try:
        return parse_table(json.loads(BUNDLED.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:  # a broken install must not stop translation
        log.warning("bundled quality table unreadable (%s): routes ranked by priors", exc)
        return QualityTable()


def load_table(local: Path | None = None) -> QualityTable:
    """The bundled table, with the operator's measurements at `local` (if it exists) over it."""
    table = _bundled()
    if local is not None and local.is_file():
        try:
            table = table.merge(parse_table(json.loads(local.read_text(encoding="utf-8")),
                                            origin="local"))
        except (OSError, ValueError) as exc:
            log.warning("quality table %s ignored: %s", local, exc)
    return table
