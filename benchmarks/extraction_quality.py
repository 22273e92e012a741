"""Extraction and language-id quality on the shared evaluation pages, on demand.

Prints the figures the CI gate (tests/test_quality_extraction.py) checks, on the full data
by default, beside trafilatura.extract alone with its default settings, and the pages/s of
our extract() (one process).

Usage: python benchmarks/extraction_quality.py [--every N] [--no-baseline]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from babelwire.ingest.extract import extract  # noqa: E402
from babelwire.ingest.langid import identify_language  # noqa: E402
from tests.support.scoring import (  # noqa: E402
    EvalPage,
    FundusPage,
    FundusScores,
    PageOutput,
    SnippetCounts,
    load_fundus,
    load_trafilatura_eval,
    score_fundus,
    score_snippets,
)

P = TypeVar("P", FundusPage, EvalPage)
R = TypeVar("R")


class Timed:
    """Wraps a per-page function and adds up the time spent in it (gunzip included)."""

    def __init__(self) -> None:
        self.pages = 0
        self.wall = 0.0
        self.cpu = 0.0

    def wrap(self, fn: Callable[[P], R]) -> Callable[[P], R]:
        def run(page: P) -> R:
            wall, cpu = time.perf_counter(), time.process_time()
            out = fn(page)
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu
            self.pages += 1
            return out
        return run

    def rate(self) -> str:
        return (f"{self.pages / self.wall:.1f} pages/s wall, "
                f"{self.pages / self.cpu:.1f} pages/s CPU" if self.wall and self.cpu else "-")


def ours_fundus(page: FundusPage) -> PageOutput:
    result = extract(page.html(), page.url)
    guess = identify_language(result.text or (result.title or ""), result.language_hints)
    return PageOutput(text=result.text, title=result.title, language=guess.language)


def ours_fundus_no_hints(page: FundusPage) -> PageOutput:
    result = extract(page.html(), page.url)
    guess = identify_language(result.text or (result.title or ""))
    return PageOutput(text=result.text, title=result.title, language=guess.language)


def ours_snippets(page: EvalPage) -> str:
    return extract(page.html(), page.url).text


def trafilatura_fundus(page: FundusPage) -> PageOutput:
    import trafilatura
    from trafilatura.metadata import extract_metadata

    html = page.html()
    text = trafilatura.extract(html, url=page.url)
    title = extract_metadata(html, page.url).title
    guess = identify_language(text or "")
    return PageOutput(text=text, title=title, language=guess.language)


def trafilatura_snippets(page: EvalPage) -> str | None:
    import trafilatura

    return trafilatura.extract(page.html(), url=page.url)


def fundus_line(name: str, scores: FundusScores) -> str:
    return (f"  {name:<34} title {scores.title_exact:.3f}  body F1 {scores.body_f1:.3f}  "
            f"language {scores.language_accuracy:.3f}")


def snippet_line(name: str, counts: SnippetCounts) -> str:
    return (f"  {name:<34} P {counts.precision:.3f}  R {counts.recall:.3f}  "
            f"F1 {counts.f1:.3f}  accuracy {counts.accuracy:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1,
                        help="score every n-th trafilatura-eval page (the gate uses 2)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip trafilatura.extract alone")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"no shared data at {DATA}", file=sys.stderr)
        return 1

    fundus = load_fundus(DATA)
    evalpages = load_trafilatura_eval(DATA, every=args.every)
    print(f"fundus-parser-testdata: {len(fundus)} pages "
          "(title exact match, body F1 on word 4-gram shingles, language accuracy)")
    with_langid = Timed()
    print(fundus_line("babelwire extract + identify",
                      score_fundus(fundus, with_langid.wrap(ours_fundus))))
    print(fundus_line("  language without hints", score_fundus(fundus, ours_fundus_no_hints)))
    if not args.no_baseline:
        print(fundus_line("trafilatura.extract (defaults)",
                          score_fundus(fundus, trafilatura_fundus)))
    print(f"trafilatura-eval: {len(evalpages)} pages (with/without snippets, micro-averaged)")
    ours = Timed()
    print(snippet_line("babelwire extract", score_snippets(evalpages, ours.wrap(ours_snippets))))
    baseline = Timed()
    if not args.no_baseline:
        print(snippet_line("trafilatura.extract (defaults)",
                           score_snippets(evalpages, baseline.wrap(trafilatura_snippets))))
    print("speed, one process:")
    print(f"  babelwire extract() on trafilatura-eval pages: {ours.rate()}")
    print(f"  trafilatura.extract alone on the same pages:   {baseline.rate()}")
    print(f"  extract() + identify_language() on fundus:     {with_langid.rate()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
