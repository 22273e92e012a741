"""Translation quality and speed on NTREX-128, beside the raw `apertium` command.

For every pair the installed engines give (direct and through a pivot), translate the NTREX
lines with Babelwire's translator and score chrF/BLEU (sacrebleu); for the direct pairs run
`apertium -u MODE` on the same file in the same run. Then: warm throughput (translation
memory off), and the memory's hit rate on a second run of the same text.

Usage: python benchmarks/translate.py [--limit N] [--pairs en-es,ru-uk]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NTREX = ROOT.parent / "shared" / "data" / "mt-ntrex128"


def main() -> int:
    from babelwire.store.database import Database
    from babelwire.translate.apertium import ApertiumEngine
    from babelwire.translate.memory import TranslationMemory
    from babelwire.translate.router import Router
    from babelwire.translate.translator import Translator
    from tests.support import mt_eval

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--limit", type=int, default=None, help="lines per pair (default: all)")
    ap.add_argument("--pairs", help="comma-separated, e.g. en-es,ru-uk (default: all)")
    args = ap.parse_args()
    if not NTREX.exists():
        print(f"skipped: {NTREX} not found")
        return 0
    pairs = mt_eval.DIRECT_PAIRS + mt_eval.PIVOT_PAIRS
    if args.pairs:
        wanted = {tuple(p.split("-")) for p in args.pairs.split(",")}
        pairs = [p for p in pairs if p in wanted]

    engine = ApertiumEngine()
    router = Router([engine])
    print(f"engine: {engine.name} {engine.version()}")
    header = (f"{'pair':<7} {'system':<13} {'path':<10} {'chrF':>6} {'BLEU':>6} {'lost':>5} "
              f"{'same':>5} {'flag':>5} {'words/s':>9}")
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'tm.db'}")
        memory = TranslationMemory(db)
        translator = Translator(router, memory)
        plain = Translator(router)  # no memory: throughput of the engine path itself
        for pair in pairs:
            if router.route(*pair) is None:
                print(f"{pair[0]}-{pair[1]:<4} no route")
                continue
            sources = mt_eval.read_lines(NTREX, pair[0], args.limit)
            refs = mt_eval.read_lines(NTREX, pair[1], args.limit)
            rows = []
            if pair in mt_eval.RAW_MODES:
                mt_eval.run_raw(pair, sources[:20])  # warm the disk cache, like ours
                out, secs = mt_eval.run_raw(pair, sources)
                rows.append(mt_eval.score(pair, "raw apertium", sources, out, refs, secs,
                                          path="direct"))
            out, secs, flagged, path = mt_eval.run_babelwire(translator, pair, sources)
            ours = mt_eval.score(pair, "babelwire", sources, out, refs, secs, flagged=flagged,
                                 path=path)
            _out, warm_secs, _f, _p = mt_eval.run_babelwire(plain, pair, sources)
            ours.words_per_s = mt_eval.words(sources) / warm_secs
            rows.append(ours)
            for r in rows:
                print(f"{r.pair[0]}-{r.pair[1]:<4} {r.system:<13} {r.path:<10} {r.chrf:6.1f} "
                      f"{r.bleu:6.1f} {r.lost:5d} {r.unchanged:5d} {r.flagged:5d} "
                      f"{r.words_per_s:9.0f}")
            if len(rows) == 2:
                raw, mine = rows
                print(f"        chrF {mine.chrf - raw.chrf:+.1f} vs raw; throughput "
                      f"{mine.words_per_s / raw.words_per_s:.2f}x raw; translated "
                      f"{mine.translated_share:.1%} (raw {raw.translated_share:.1%})")
        # memory: the same text a second time
        memory.hits = memory.misses = 0
        for pair in pairs[:3]:
            if router.route(*pair) is not None:
                translator.translate(mt_eval.read_lines(NTREX, pair[0], args.limit), *pair)
        print(f"translation memory on a second run: {memory.hit_rate:.1%} hits "
              f"({memory.hits} of {memory.hits + memory.misses} segments)")
        db.dispose()
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
