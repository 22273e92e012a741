"""Per-source boilerplate learning: recall of boilerplate blocks, real paragraphs lost,
precision, and the cost of `clean_article` per article, on three evaluations:

- demo: the demo newsroom crawled by the real pipeline (loopback); its appeals, newsletter
  boxes, teasers and author bios are the boilerplate, its article paragraphs the real text.
- fundus: real pages of the 64 fundus publishers that have two pages or more (2-4 each),
  extracted by our extractor; blocks in the gold text are real, blocks not in it that recur
  on another of the publisher's pages are boilerplate (tests/test_boilerplate.py says how).
- ntrex: real text that legitimately repeats: per language, all NTREX-128 documents plus,
  for each pair of outlets' reports on one event, a report quoting the other, a follow-up
  re-using the other's lead and an update re-using half of a report. Everything is real.

trafilatura-eval is not used: its 990 pages come from 969 sites (one page each, but for
two of chip.de), so no publisher has the recurring blocks this learning needs.

Usage: python benchmarks/boilerplate.py [--only demo,fundus,ntrex] [--verbose]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

from babelwire.ingest import boilerplate as bp  # noqa: E402
from babelwire.store.database import Database  # noqa: E402
from tests.test_boilerplate import (  # noqa: E402
    Scores,
    evaluate,
    fundus_streams,
    ntrex_streams,
    run_stream,
    total,
)


def _row(name: str, sc: Scores) -> str:
    return (f"{name:24} {sc.articles:5} {sc.blocks:6} {sc.boilerplate:5} {sc.recall:7.3f} "
            f"{sc.real:6} {sc.lost:5} {sc.lost_share:7.4f} {sc.precision:7.3f} "
            f"{sc.ms_per_article:7.2f}")


def report(title: str, scores: dict[str, Scores], verbose: bool) -> None:
    print(f"\n== {title}")
    print(f"{'source':24} {'arts':>5} {'blocks':>6} {'boil':>5} {'recall':>7} {'real':>6} "
          f"{'lost':>5} "
          f"{'lost%':>7} {'prec':>7} {'ms/art':>7}")
    for name, sc in sorted(scores.items()):
        if verbose or sc.boilerplate or sc.lost:
            print(_row(name, sc))
    print(_row("TOTAL", total(scores)))
    if verbose:
        for name, sc in sorted(scores.items()):
            for text in sc.missed:
                print(f"  missed  {name}: {text[:100]}")
            for text in sc.lost_texts:
                print(f"  lost    {name}: {text[:100]}")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="demo,fundus,ntrex")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    print(f"K = {bp.MIN_UNRELATED} groups of related articles (and {bp.GROUP_SHARE:.0%} of the "
          f"holders), window = {bp.WINDOW} articles, related: {bp.RELATED_TITLE} title words "
          f"or {bp.RELATED_NAMES_MIN} names and {bp.RELATED_NAMES:.0%} of them")
    print(f"load average: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        def db_for(name: str) -> Database:
            return Database(f"sqlite:///{tmp}/{name}.db")

        if "demo" in wanted:
            report("demo newsroom (crawled on loopback)", demo(Path(tmp)), args.verbose)
        if "fundus" in wanted and (SHARED / "fundus-parser-testdata").exists():
            report("fundus: real pages, publishers with 2+ pages",
                   evaluate(db_for, fundus_streams(SHARED)), args.verbose)
        if "ntrex" in wanted and (SHARED / "mt-ntrex128").exists():
            report("ntrex: real paragraphs repeated across related reports (all real)",
                   evaluate(db_for, ntrex_streams(SHARED)), args.verbose)
    print(f"\nload average: {_load()} ({os.cpu_count()} cores)")


def demo(tmp: Path) -> dict[str, Scores]:
    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.context import Context
    from babelwire.demo.newsroom import DemoNewsroom
    from tests.support.factories import make_settings
    from tests.test_boilerplate import demo_streams

    with DemoNewsroom() as room:
        ctx = Context.open(make_settings(tmp / "crawl"), catalog=catalog_from_specs(
            room.sources()))
        try:
            streams = demo_streams(ctx, room)
        finally:
            ctx.close()
    out = {}
    for name, articles in streams.items():
        db = Database(f"sqlite:///{tmp}/demo-{name}.db")
        try:
            out[name] = run_stream(db, name, articles)
        finally:
            db.dispose()
    return out


if __name__ == "__main__":
    main()
