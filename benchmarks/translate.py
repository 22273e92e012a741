"""Translation quality and speed on NTREX-128, beside the raw `apertium` command.

For every pair the installed engines give (direct and through a pivot), translate the NTREX
lines with Babelwire's translator and score chrF/BLEU (sacrebleu); for the direct pairs run
`apertium -u MODE` on the same file in the same run. Then: warm throughput (translation
memory off), and the memory's hit rate on a second run of the same text.

`--speed`: whole processes instead, the `babelwire translate` command against
`apertium -u MODE`, each reading the same file of LINES NTREX lines on stdin and writing to a
pipe, run alternately (which one goes first alternates too) ROUNDS times per pair; words/s
of each and their ratio per round, and the median ratio. Each `babelwire` run gets a fresh
data directory. Other work on the machine slows both alike only when they are interleaved:
compare the ratio, not the absolute figures.

Usage: python benchmarks/translate.py [--limit N] [--pairs en-es,ru-uk]
       python benchmarks/translate.py --speed [--lines 2000] [--rounds 5] [--pairs en-es,...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NTREX = ROOT.parent / "shared" / "data" / "mt-ntrex128"


SPEED_PAIRS = [("en", "es"), ("es", "en"), ("fr", "es"), ("pt", "es")]


def _babelwire_command() -> list[str]:
    script = Path(sys.executable).with_name("babelwire")
    return [str(script)] if script.exists() else [sys.executable, "-m", "babelwire"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(cmd: list[str], path: Path, env: dict[str, str] | None = None
           ) -> tuple[float, float, list[str]]:
    """Wall seconds, CPU seconds (the process and every stage it waited for), output lines."""
    with open(path, "rb") as stdin:
        c0, t0 = _cpu(), time.perf_counter()
        proc = subprocess.run(cmd, stdin=stdin, capture_output=True, env=env, timeout=900)
        secs, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): "
                         f"{proc.stderr.decode()[-500:]}")
    return secs, cpu, proc.stdout.decode("utf-8", "replace").split("\n")[:-1]


def speed(pairs: list[tuple[str, str]], lines: int, rounds: int, *, names: bool = True
          ) -> None:
    """Whole-process words/s, `babelwire translate` beside `apertium -u MODE` (--speed)."""
    from tests.support import mt_eval

    modes = {**mt_eval.RAW_MODES, ("eu", "es"): "eu-es", ("es", "ca"): "spa-cat",
             ("mk", "en"): "mkd-eng"}
    env_base = {k: v for k, v in os.environ.items() if not k.startswith("BABELWIRE_")}
    if not names:
        env_base["BABELWIRE_KEEP_NAMES"] = "0"
    print(f"whole process, {lines} NTREX lines, {rounds} rounds, interleaved; names "
          f"{'kept' if names else 'not protected'}; load {os.getloadavg()[0]:.1f}")
    print(f"{'pair':<7} {'round':>5} {'raw w/s':>9} {'ours w/s':>9} {'ratio':>6} "
          f"{'raw cpu':>8} {'our cpu':>8} {'cpu ratio':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for pair in pairs:
            if pair not in modes:
                print(f"{pair[0]}-{pair[1]:<4} no raw mode to compare with")
                continue
            sources = mt_eval.read_lines(NTREX, pair[0], lines)
            path = Path(tmp) / f"{pair[0]}-{pair[1]}.txt"
            path.write_text("\n".join(sources) + "\n", encoding="utf-8")
            n_words = mt_eval.words(sources)
            raw_cmd = ["apertium", "-u", modes[pair]]
            ours_cmd = [*_babelwire_command(), "translate", "-s", pair[0], "-t", pair[1]]
            _timed(raw_cmd, path)  # warm the disk cache for both
            ratios, cpu_ratios = [], []
            for r in range(rounds):
                env = {**env_base, "BABELWIRE_DATA_DIR": tempfile.mkdtemp(dir=tmp)}
                runs: dict[str, tuple[float, float]] = {}
                order = [("raw", raw_cmd, None), ("ours", ours_cmd, env)]
                for name, cmd, e in (order if r % 2 == 0 else order[::-1]):
                    secs, cpu, out = _timed(cmd, path, e)
                    if name == "ours" and len(out) != len(sources):
                        raise SystemExit(f"babelwire wrote {len(out)} lines for "
                                         f"{len(sources)}")
                    runs[name] = (secs, cpu)
                ratio = runs["raw"][0] / runs["ours"][0]
                cpu_ratio = runs["raw"][1] / runs["ours"][1]
                ratios.append(ratio)
                cpu_ratios.append(cpu_ratio)
                print(f"{pair[0]}-{pair[1]:<4} {r + 1:5d} {n_words / runs['raw'][0]:9.0f} "
                      f"{n_words / runs['ours'][0]:9.0f} {ratio:6.2f} {runs['raw'][1]:8.2f} "
                      f"{runs['ours'][1]:8.2f} {cpu_ratio:9.2f}", flush=True)
            print(f"{pair[0]}-{pair[1]:<4} median ratio {statistics.median(ratios):.2f}x raw "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f}); CPU: raw needs "
                  f"{statistics.median(cpu_ratios):.2f}x what we need", flush=True)


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
    ap.add_argument("--speed", action="store_true",
                    help="whole-process words/s beside `apertium -u` (see above)")
    ap.add_argument("--lines", type=int, default=2000, help="--speed: lines per pair")
    ap.add_argument("--rounds", type=int, default=5, help="--speed: rounds per pair")
    ap.add_argument("--no-names", action="store_true",
                    help="--speed: babelwire with keep_names off")
    args = ap.parse_args()
    if not NTREX.exists():
        print(f"skipped: {NTREX} not found")
        return 0
    if args.speed:
        wanted_pairs = [tuple(p.split("-")) for p in args.pairs.split(",")] if args.pairs \
            else SPEED_PAIRS
        speed([(a, b) for a, b in wanted_pairs], args.lines, args.rounds,
              names=not args.no_names)
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
