"""Extraction quality and speed on the shared evaluation pages, beside trafilatura alone.

Prints the figures the CI gate (tests/test_quality_extraction.py) checks, and more:

- fundus-parser-testdata (258 pages) and the real pages of mozilla-readability-test-pages
  (98; the 32 synthetic lorem-ipsum cases left out): body F1 by the ScrapingHub metric
  (word 4-gram multisets, macro precision/recall; tests/support/article_bench.py), on the
  dev half, the held-out half and both; fundus also by the gate's own per-page F1, title
  exact match and language accuracy;
- trafilatura-eval: with/without snippets, micro-averaged;
- speed, one process: our ``extract()`` and ``trafilatura.extract`` (defaults) timed on
  the same pages in the same run, interleaved page by page (the order alternating), the
  pages already in memory, ``--repeat`` times; each pass prints its ratio, so load from
  other processes shows as spread instead of bias.

Usage: python benchmarks/extraction_quality.py [--every N] [--repeat R] [--no-baseline]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from babelwire.ingest.extract import extract  # noqa: E402
from babelwire.ingest.langid import identify_language  # noqa: E402
from tests.support.article_bench import (  # noqa: E402
    fundus_half,
    load_readability,
    readability_half,
    score_bodies,
)
from tests.support.scoring import (  # noqa: E402
    SnippetCounts,
    load_fundus,
    load_trafilatura_eval,
    normalize_space,
    shingle_f1,
)


@dataclass
class Page:
    """One page of any set, its HTML in memory, and what each extractor made of it."""

    kind: str  # fundus | readability | eval
    half: str
    html: bytes
    url: str | None
    truth: Any  # FundusPage | ReadabilityPage | EvalPage
    ours: tuple[str, str | None, str | None] = ("", None, None)  # text, title, language
    theirs: tuple[str, str | None] = ("", None)


def load_pages(every: int) -> list[Page]:
    pages = [Page("fundus", fundus_half(p), p.html(), p.url, p) for p in load_fundus(DATA)]
    pages += [Page("readability", readability_half(p), p.html(), None, p)
              for p in load_readability(DATA)]
    pages += [Page("eval", "-", p.html(), p.url, p)
              for p in load_trafilatura_eval(DATA, every=every)]
    return pages


LANGID_SECONDS = [0.0]  # the part of run_ours spent in identify_language


def run_ours(page: Page) -> tuple[str, str | None, str | None]:
    result = extract(page.html, page.url)
    t0 = time.perf_counter()
    guess = identify_language(result.text or (result.title or ""), result.language_hints)
    LANGID_SECONDS[0] += time.perf_counter() - t0
    return result.text, result.title, guess.language


def run_trafilatura(page: Page) -> tuple[str, str | None]:
    import trafilatura

    return trafilatura.extract(page.html, url=page.url) or "", None


def timed_pass(pages: Sequence[Page], fns: dict[str, Callable[[Page], object]],
               keep: bool) -> dict[str, float]:
    """Seconds spent in each function over all pages, interleaved, order alternating."""
    spent = dict.fromkeys(fns, 0.0)
    names = list(fns)
    for i, page in enumerate(pages):
        for name in names if i % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            out = fns[name](page)
            spent[name] += time.perf_counter() - t0
            if keep:
                setattr(page, name, out)
    return spent


def trafilatura_titles(pages: Sequence[Page]) -> None:
    from trafilatura.metadata import extract_metadata

    for page in pages:
        if page.kind == "fundus":
            page.theirs = (page.theirs[0], extract_metadata(page.html, page.url).title)


def body_line(name: str, pages: Sequence[Page], pick: Callable[[Page], str]) -> str:
    cells = []
    for half in ("dev", "held-out", None):
        sel = [p for p in pages if half is None or p.half == half]
        s = score_bodies((pick(p), p.truth.body) for p in sel)
        cells.append(f"{half or 'all'} {s.f1:.3f} (P {s.precision:.3f} R {s.recall:.3f})")
    return f"  {name:<22} " + "  ".join(cells)


def report(pages: Sequence[Page], baseline: bool) -> None:
    for kind in ("fundus", "readability"):
        sel = [p for p in pages if p.kind == kind]
        print(f"{kind}: {len(sel)} pages, body F1 (ScrapingHub metric), dev / held-out / all")
        print(body_line("babelwire extract", sel, lambda p: p.ours[0]))
        if baseline:
            print(body_line("trafilatura.extract", sel, lambda p: p.theirs[0]))
    fundus = [p for p in pages if p.kind == "fundus"]
    n = len(fundus) or 1

    def title_exact(pick: Callable[[Page], str | None]) -> float:
        return sum(1.0 for p in fundus
                   if normalize_space(pick(p) or "") == normalize_space(p.truth.title)) / n

    def gate_f1(pick: Callable[[Page], str]) -> float:
        return sum(float(shingle_f1(pick(p), p.truth.body)) for p in fundus) / n

    language = sum(1.0 for p in fundus if p.ours[2] == p.truth.language) / n
    print("fundus, the gate's figures (title exact, per-page 4-gram set F1, language):")
    print(f"  babelwire extract      title {title_exact(lambda p: p.ours[1]):.3f}  "
          f"body F1 {gate_f1(lambda p: p.ours[0]):.3f}  language {language:.3f}")
    if baseline:
        print(f"  trafilatura            title {title_exact(lambda p: p.theirs[1]):.3f}  "
              f"body F1 {gate_f1(lambda p: p.theirs[0]):.3f}")
    evalpages = [p for p in pages if p.kind == "eval"]
    print(f"trafilatura-eval: {len(evalpages)} pages (with/without snippets, micro-averaged)")
    for name, pick in (("babelwire extract", lambda p: p.ours[0]),
                       ("trafilatura.extract", lambda p: p.theirs[0])):
        if name.startswith("traf") and not baseline:
            continue
        counts = SnippetCounts()
        for p in evalpages:
            counts.add(p.truth, pick(p))
        print(f"  {name:<22} P {counts.precision:.3f}  R {counts.recall:.3f}  "
              f"F1 {counts.f1:.3f}  accuracy {counts.accuracy:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1,
                        help="score every n-th trafilatura-eval page (the gate uses 2)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip trafilatura.extract alone (no speed ratio then)")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"no shared data at {DATA}", file=sys.stderr)
        return 1
    pages = load_pages(args.every)
    fns: dict[str, Callable[[Page], object]] = {"ours": run_ours}
    if not args.no_baseline:
        fns["theirs"] = run_trafilatura
    run_ours(pages[0])  # model loading and imports stay out of the timing
    if not args.no_baseline:
        run_trafilatura(pages[0])
    rates: list[dict[str, float]] = []
    for i in range(max(1, args.repeat)):
        LANGID_SECONDS[0] = 0.0
        spent = timed_pass(pages, fns, keep=i == 0)
        spent["extract"] = spent["ours"] - LANGID_SECONDS[0]
        rates.append({k: len(pages) / v for k, v in spent.items()})
    if not args.no_baseline:
        trafilatura_titles(pages)
    report(pages, not args.no_baseline)
    print(f"speed, one process, {len(pages)} pages in memory, interleaved "
          "(ours: extract() + identify_language()):")
    for i, r in enumerate(rates, 1):
        line = f"  pass {i}: babelwire {r['ours']:6.1f} pages/s (extract() alone " \
               f"{r['extract']:6.1f})"
        if "theirs" in r:
            line += f"   trafilatura.extract {r['theirs']:6.1f} pages/s   ratio " \
                    f"{r['ours'] / r['theirs']:.2f}x (extract() alone " \
                    f"{r['extract'] / r['theirs']:.2f}x)"
        print(line)
    if not args.no_baseline and len(rates) > 1:
        for key, name in (("ours", "with language id"), ("extract", "extract() alone")):
            ratios = [r[key] / r["theirs"] for r in rates]
            print(f"  ratio {name}: median {statistics.median(ratios):.2f}x "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
