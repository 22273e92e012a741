"""Proper names through Apertium on NTREX-128: names kept and chrF per pair, Apertium with
Babelwire's name protection beside the same engine without it, in the same run.

`names kept`: of the capitalised words after the first word of a sentence that the human
reference keeps verbatim, the share the output keeps verbatim (tests/support/names_eval.py).
Every installed Apertium pair with NTREX data on both sides is measured (X->Y reads ref.X as
input, ref.Y as reference), the four focus pairs first. Each NTREX document is one batch, as
an article is; one engine per pair, fresh, so the capitalisation statistics start empty and
learn from the documents in order, as they would from a source's recent articles.

`--half dev` measures on the even-numbered NTREX documents (where name rules and per-pair
settings are developed), `--half held` on the odd-numbered ones (held out: the figures to
report), `--half all` (the default) on every document.

The "names" figures protect names on every pair (the per-pair gate bypassed); "gate" says
whether babelwire/translate/names_gate.json turns protection off for the pair (then the
engine translates as without names). `--write` (with `--half dev`) writes that file from this
run: protection stays on for a pair unless it lowered chrF.

Usage: python benchmarks/names.py [--limit N] [--pairs en-es,es-en] [--half dev|held|all]
       python benchmarks/names.py --half dev --write
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NTREX = ROOT.parent / "shared" / "data" / "mt-ntrex128"


def translate_documents(engine: object, pair: tuple[str, str], sources: list[str],
                        docs: list[tuple[int, int]]) -> tuple[list[str], int]:
    from babelwire.translate.apertium import ApertiumEngine

    assert isinstance(engine, ApertiumEngine)
    out: list[str] = []
    failed = 0
    for start, end in docs:
        for src, res in zip(sources[start:end], engine.translate(sources[start:end], *pair),
                            strict=True):
            failed += not res.ok
            out.append(" ".join((res.text if res.text is not None else src).splitlines()))
    return out, failed


def _subset(lines: list[str], docs: list[tuple[int, int]], chosen: list[int]) -> list[str]:
    return [line for k in chosen for line in lines[docs[k][0]:docs[k][1]]]


def _offsets(docs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The documents' ranges once they are put one after the other."""
    out, pos = [], 0
    for start, end in docs:
        out.append((pos, pos + end - start))
        pos += end - start
    return out


def main() -> int:
    from babelwire.translate import names
    from babelwire.translate.apertium import ApertiumEngine
    from tests.support import names_eval as ne

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None, help="lines per pair (default: all)")
    ap.add_argument("--pairs", help="comma-separated, e.g. en-es,es-en (default: all)")
    ap.add_argument("--skip", default="", help="comma-separated pairs to leave out")
    ap.add_argument("--half", choices=("dev", "held", "all"), default="all",
                    help="even documents (dev), odd ones (held out), or all")
    ap.add_argument("--write", action="store_true",
                    help="write babelwire/translate/names_gate.json from this run")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds a batch may hang before Apertium is restarted")
    args = ap.parse_args()
    if not NTREX.exists():
        print(f"skipped: {NTREX} not found")
        return 0
    probe = ApertiumEngine()
    pairs = ne.pairs_with_data(sorted(probe.pairs()))
    print(f"engine: apertium {probe.version()}")
    probe.close()
    if args.pairs:
        wanted = {tuple(p.split("-")) for p in args.pairs.split(",")}
        pairs = [p for p in pairs if p in wanted]
    skip = {tuple(p.split("-")) for p in args.skip.split(",") if p}
    pairs = [p for p in pairs if p not in skip]
    docs = ne.documents(NTREX, args.limit)
    chosen = [k for k in range(len(docs))
              if args.half == "all" or k % 2 == (0 if args.half == "dev" else 1)]
    gated = names.gated_pairs()
    measured: dict[str, dict[str, object]] = {}
    header = (f"{'pair':<8} {'names raw':>9} {'names bw':>9} {'chrF raw':>9} {'chrF bw':>8} "
              f"{'delta':>6} {'names':>6} {'fail':>5} {'s raw':>6} {'s bw':>6} {'gate':>5} "
              f"{'gated chrF':>10} {'gated names':>11}")
    print(header)
    print("-" * len(header))
    worse = []
    for pair in pairs:
        sources = _subset(ne.read(NTREX, ne.NTREX_LANGS[pair[0]][0], args.limit), docs,
                          chosen)
        refs = [_subset(ne.read(NTREX, stem, args.limit), docs, chosen)
                for stem in ne.NTREX_LANGS[pair[1]]]
        part = _offsets([docs[k] for k in chosen])
        row = {}
        for keep in (False, True):
            engine = ApertiumEngine(keep_names=keep, timeout=args.timeout, names_gate=False)
            engine.translate(sources[:5], *pair)  # start the pipelines outside the timing
            engine.close()
            engine = ApertiumEngine(keep_names=keep, timeout=args.timeout, names_gate=False)
            t0 = time.perf_counter()
            out, failed = translate_documents(engine, pair, sources, part)
            secs = time.perf_counter() - t0
            engine.close()
            count = ne.names_kept(sources, out, refs)
            row[keep] = (count, ne.chrf(out, refs), failed, secs)
        (c0, f0, _x0, s0), (c1, f1, x1, s1) = row[False], row[True]
        if f1 < f0 - 1e-9:
            worse.append(f"{pair[0]}-{pair[1]}")
        off = pair in gated
        print(f"{pair[0]}-{pair[1]:<5} {c0.share:9.3f} {c1.share:9.3f} {f0:9.2f} {f1:8.2f} "
              f"{f1 - f0:+6.2f} {c1.total:6d} {x1:5d} {s0:6.1f} {s1:6.1f} "
              f"{'off' if off else 'on':>5} {f0 if off else f1:10.2f} "
              f"{c0.share if off else c1.share:11.3f}", flush=True)
        measured[f"{pair[0]}-{pair[1]}"] = {
            "keep_names": f1 >= f0, "chrf_without": round(f0, 2), "chrf_names": round(f1, 2),
            "names_kept_without": round(c0.share, 3), "names_kept": round(c1.share, 3)}
    print(f"pairs: {len(pairs)}; chrF below the engine without names: "
          f"{', '.join(worse) if worse else 'none'}; "
          f"of those the gate leaves on: "
          f"{', '.join(w for w in worse if tuple(w.split('-')) not in gated) or 'none'}")
    if args.write:
        names.GATE_PATH.write_text(json.dumps({
            "measured_on": f"NTREX-128, {args.half} documents "
                           f"({ {'dev': 'even', 'held': 'odd'}.get(args.half, 'all') })",
            "pairs": measured}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {names.GATE_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
