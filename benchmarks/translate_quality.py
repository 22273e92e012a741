"""The router's quality table: chrF of every installed engine pair on NTREX-128, beside the raw
`apertium -u MODE` command on the same lines, with lost lines counted for both.

Each Apertium pair Debian ships whose two languages NTREX-128 has is measured on the same
lines (NTREX's non-English sides are translations of the English, so X→Y is scored with
ref.X as input and ref.Y as reference). `--write` stores the table where the router reads it
(babelwire/translate/quality.json); `--routes` then measures the routes the router chooses
for every catalogue language × reader language, beside the router's estimate, which checks
how it composes hops.

A lost line is a non-empty input line whose output is empty: raw Apertium leaves one when a
stage crashes with exit status 0 (the rus-ukr failure); Babelwire must never lose one.

Usage: python benchmarks/translate_quality.py [--limit N] [--pairs en-es,ro-es] [--write]
       [--routes]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NTREX = ROOT.parent / "shared" / "data" / "mt-ntrex128"
TABLE = ROOT / "babelwire" / "translate" / "quality.json"


def _engine_outputs(engine: object, pair: tuple[str, str], sources: list[str]
                    ) -> tuple[list[str], int, float]:
    """The engine's own output for every line (a failed line as ""), failures, seconds."""
    from babelwire.translate.apertium import ApertiumEngine

    assert isinstance(engine, ApertiumEngine)
    t0 = time.perf_counter()
    out: list[str] = []
    failed = 0
    for start in range(0, len(sources), 400):
        for res in engine.translate(sources[start:start + 400], *pair):
            out.append(" ".join((res.text or "").split()))
            failed += not res.ok
    return out, failed, time.perf_counter() - t0


def measure_pairs(limit: int | None, wanted: set[tuple[str, str]] | None) -> dict[str, object]:
    from babelwire.translate.apertium import ApertiumEngine
    from tests.support import mt_eval

    engine = ApertiumEngine()
    rows: dict[str, dict[str, object]] = {}
    print(f"engine: apertium {engine.version()}")
    header = (f"{'pair':<7} {'mode':<12} {'lines':>5} {'chrF':>6} {'raw':>6} {'BLEU':>6} "
              f"{'lost':>4} {'raw lost':>8} {'failed':>6} {'words/s':>8}")
    print(header)
    print("-" * len(header))
    try:
        for pair in sorted(engine.pairs()):
            if wanted and pair not in wanted:
                continue
            if not all(lang in mt_eval.NTREX_FILES for lang in pair):
                print(f"{pair[0]}-{pair[1]:<4} no NTREX data on both sides: not measured")
                continue
            mode = engine._modes[pair]
            sources = mt_eval.read_lines(NTREX, pair[0], limit)
            refs = mt_eval.read_lines(NTREX, pair[1], limit)
            out, failed, secs = _engine_outputs(engine, pair, sources)
            ours = mt_eval.score(pair, "babelwire", sources, out, refs, secs, flagged=failed)
            raw_mode = mode.name if mode.pre is None else None
            raw_chrf: float | None = None
            raw_lost: int | None = None
            if raw_mode is not None:
                raw_out, raw_secs = mt_eval.run_raw(pair, sources, raw_mode)
                raw = mt_eval.score(pair, "raw apertium", sources, raw_out, refs, raw_secs)
                raw_chrf, raw_lost = raw.chrf, raw.lost
            print(f"{pair[0]}-{pair[1]:<4} {mode.name:<12} {ours.lines:>5} {ours.chrf:>6.1f} "
                  f"{raw_chrf if raw_chrf is not None else float('nan'):>6.1f} "
                  f"{ours.bleu:>6.1f} {ours.lost:>4} "
                  f"{raw_lost if raw_lost is not None else '-':>8} {failed:>6} "
                  f"{ours.words_per_s:>8.0f}", flush=True)
            rows[f"{pair[0]}-{pair[1]}"] = {
                "chrf": round(ours.chrf, 1), "bleu": round(ours.bleu, 1), "lines": ours.lines,
                "mode": mode.name, "raw_chrf": None if raw_chrf is None else round(raw_chrf, 1),
                "lost": ours.lost, "raw_lost": raw_lost, "failed": failed}
        version = engine.version()
    finally:
        engine.close()
    return {"version": version, "pairs": rows}


def measure_routes(limit: int | None) -> dict[str, dict[str, object]]:
    """The router's choice for each catalogue language × reader language, measured."""
    from babelwire.catalog.loader import load_catalog
    from babelwire.config import Settings
    from babelwire.translate import quality
    from babelwire.translate.apertium import ApertiumEngine
    from babelwire.translate.router import Router
    from babelwire.translate.translator import Translator
    from tests.support import mt_eval

    settings = Settings.load(env={})
    sources_langs = sorted({quality.canonical(lang) for s in load_catalog().sources
                            for lang in s.languages})
    engine = ApertiumEngine()
    router = Router([engine], table=quality.load_table(), min_quality=0)
    translator = Translator(router)
    measured: dict[str, dict[str, object]] = {}
    header = f"{'pair':<7} {'route':<22} {'estimate':>8} {'chrF':>6} {'lost':>4}"
    print(header)
    print("-" * len(header))
    try:
        for src in sources_langs:
            for tgt in settings.reader_languages:
                if src == tgt:
                    continue
                routes = router.routes(src, tgt, limit=1, min_quality=0)
                if not routes or len(routes[0].hops) < 2:
                    continue
                if src not in mt_eval.NTREX_FILES or tgt not in mt_eval.NTREX_FILES:
                    continue
                lines = mt_eval.read_lines(NTREX, src, limit)
                refs = mt_eval.read_lines(NTREX, tgt, limit)
                out, secs, flagged, path = mt_eval.run_babelwire(translator, (src, tgt), lines)
                got = mt_eval.score((src, tgt), "babelwire", lines, out, refs, secs,
                                    flagged=flagged)
                print(f"{src}-{tgt:<4} {path:<22} {routes[0].quality:>8.1f} {got.chrf:>6.1f} "
                      f"{got.lost:>4}", flush=True)
                if routes[0].engine_names == ["apertium"]:
                    measured[">".join(routes[0].path)] = {
                        "chrf": round(got.chrf, 1), "lines": got.lines, "lost": got.lost,
                        "estimate": round(routes[0].quality, 1)}
    finally:
        engine.close()
    return measured


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None, help="lines per pair (default: all)")
    ap.add_argument("--pairs", help="comma-separated, e.g. en-es,ro-es (default: all)")
    ap.add_argument("--write", action="store_true", help=f"store the table in {TABLE}")
    ap.add_argument("--routes", action="store_true",
                    help="measure the chosen multi-hop routes beside their estimates")
    args = ap.parse_args()
    if not NTREX.exists():
        print(f"skipped: {NTREX} not found")
        return 0
    wanted = {tuple(p.split("-", 1)) for p in args.pairs.split(",")} if args.pairs else None
    if not args.routes:
        apertium = measure_pairs(args.limit, wanted)  # type: ignore[arg-type]
        if args.write:
            table = json.loads(TABLE.read_text(encoding="utf-8")) if TABLE.exists() else {}
            table["data"] = ("NTREX-128 newstest2019, the first `lines` lines of each pair, "
                             "sacrebleu chrF")
            table["measured"] = datetime.now(UTC).date().isoformat()
            engines = table.setdefault("engines", {})
            old = engines.get("apertium", {}).get("pairs", {}) if wanted else {}
            apertium["pairs"] = {**old, **apertium["pairs"]}  # type: ignore[dict-item]
            apertium["routes"] = engines.get("apertium", {}).get("routes", {})
            engines["apertium"] = apertium
            TABLE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
            print(f"wrote {TABLE}")
    if args.routes:
        routes = measure_routes(args.limit)
        if args.write:
            table = json.loads(TABLE.read_text(encoding="utf-8"))
            entry = table.setdefault("engines", {}).setdefault("apertium", {})
            entry["routes"] = {**entry.get("routes", {}), **routes}
            TABLE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
            print(f"wrote {len(routes)} routes to {TABLE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
