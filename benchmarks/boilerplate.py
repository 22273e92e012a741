"""Per-source boilerplate learning: recall of boilerplate blocks, real paragraphs lost,
precision, and the cost of `clean_article` per article, on these evaluations:

- demo: the demo newsroom crawled by the real pipeline (loopback); its appeals, newsletter
  boxes, teasers and author bios are the boilerplate, its article paragraphs the real text.
- fundus: real pages of the 64 fundus publishers that have two pages or more (2-4 each),
  extracted by our extractor; blocks in the gold text are real, blocks not in it that recur
  on another of the publisher's pages are boilerplate, and so are short blocks not in it
  opening with the lead-in of such a block of another page, the rest differing (a natural
  teaser, "MORE : <headline>"); tests/test_boilerplate.py says how.
- demo+teasers, fundus+teasers: the same streams with a synthetic teaser in every article
  (`with_teasers`): the publisher's "Read more:" in its language ("Lesen Sie auch:",
  "Читайте также:", "관련기사:"...), in one of three layouts (colon, dash, capitals) and
  the headline of another of its articles, so that only the lead-in recurs. The demo
  newsroom's own teaser box has a fixed wording (learned whole), hence these.
- ntrex: real text that legitimately repeats: per language, all NTREX-128 documents plus,
  for each pair of outlets' reports on one event, a report quoting the other, a follow-up
  re-using the other's lead and an update re-using half of a report. Everything is real.

"teas"/"t.rec" count the teaser blocks (also in "boil"/"recall") and the share found.
Unless --no-compare, every evaluation runs twice, "before" with lead-in learning off
(`LEAD_WORDS = 0`: whole-block keys only, as before lead-ins were learned) and "after",
and a before/after table ends the report.

trafilatura-eval is not used: its 990 pages come from 969 sites (one page each, but for
two of chip.de), so no publisher has the recurring blocks this learning needs.

Usage: python benchmarks/boilerplate.py [--only demo,fundus,ntrex] [--verbose] [--no-compare]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

from babelwire.ingest import boilerplate as bp  # noqa: E402
from babelwire.store.database import Database  # noqa: E402
from tests.test_boilerplate import (  # noqa: E402
    EvalArticle,
    Scores,
    evaluate,
    fundus_streams,
    ntrex_streams,
    total,
    with_teasers,
)

Streams = dict[str, list[EvalArticle]]


def _row(name: str, sc: Scores) -> str:
    return (f"{name:24} {sc.articles:5} {sc.blocks:6} {sc.boilerplate:5} {sc.recall:7.3f} "
            f"{sc.teasers:5} {sc.teaser_recall:6.3f} {sc.real:6} {sc.lost:5} "
            f"{sc.lost_share:7.4f} {sc.precision:7.3f} {sc.ms_per_article:7.2f}")


def report(title: str, scores: dict[str, Scores], verbose: bool) -> None:
    print(f"\n== {title}")
    print(f"{'source':24} {'arts':>5} {'blocks':>6} {'boil':>5} {'recall':>7} {'teas':>5} "
          f"{'t.rec':>6} {'real':>6} {'lost':>5} {'lost%':>7} {'prec':>7} {'ms/art':>7}")
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


def one_group_teasers(streams: Streams) -> tuple[int, int]:
    """(teasers in sources whose articles all count as related (`bp.related`, chained, on
    the blocks not labelled boilerplate, as the learner leaves out what it has learned): one
    group, so nothing, appeal or teaser, can be learned there; all teasers)."""
    stuck = every = 0
    for articles in streams.values():
        n = sum(sum(a.teasers) for a in articles)
        every += n
        texts = [[t for (_, t), label in zip(a.blocks, a.labels, strict=True) if label is not True]
                 for a in articles]
        group = list(range(len(articles)))  # a group's id per article
        for i, j in itertools.combinations(range(len(articles)), 2):
            if group[i] != group[j] and bp.related(articles[i].title, texts[i],
                                                   articles[j].title, texts[j]):
                old = group[i]
                group = [group[j] if g == old else g for g in group]
        if len(set(group)) < bp.MIN_UNRELATED:
            stuck += n
    return stuck, every


def run(db_for: Callable[[str], Database], streams: Streams, *, lead_words: int) -> (
        dict[str, Scores]):
    """`evaluate` with lead-in learning set to `lead_words` (0: off)."""
    saved = bp.LEAD_WORDS
    bp.LEAD_WORDS = lead_words
    try:
        return evaluate(db_for, streams)
    finally:
        bp.LEAD_WORDS = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="demo,fundus,ntrex")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the runs with lead-in learning off")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    print(f"K = {bp.MIN_UNRELATED} groups of related articles (and {bp.GROUP_SHARE:.0%} of the "
          f"holders), window = {bp.WINDOW} articles, related: {bp.RELATED_TITLE} title words "
          f"or {bp.RELATED_NAMES_MIN} names and {bp.RELATED_NAMES:.0%} of them; lead-ins: "
          f"1-{bp.LEAD_WORDS} words in blocks of at most {bp.SHORT_WORDS} words")
    print(f"load average: {_load()}")
    after = bp.LEAD_WORDS
    compared: list[tuple[str, Scores | None, Scores]] = []
    with tempfile.TemporaryDirectory() as tmp:
        serial = itertools.count()

        def db_for(name: str) -> Database:
            return Database(f"sqlite:///{tmp}/{next(serial)}-{name}.db")

        evaluations: list[tuple[str, str, Streams]] = []
        if "demo" in wanted:
            demo = demo_streams_crawled(Path(tmp))
            evaluations += [("demo", "demo newsroom (crawled on loopback)", demo),
                            ("demo+teasers", "demo newsroom + a synthetic teaser per article",
                             with_teasers(demo))]
        if "fundus" in wanted and (SHARED / "fundus-parser-testdata").exists():
            fundus = fundus_streams(SHARED)
            evaluations += [("fundus", "fundus: real pages, publishers with 2+ pages", fundus),
                            ("fundus+teasers", "fundus + a synthetic teaser per page",
                             with_teasers(fundus))]
        if "ntrex" in wanted and (SHARED / "mt-ntrex128").exists():
            evaluations.append(("ntrex", "ntrex: real paragraphs repeated across related "
                                "reports (all real)", ntrex_streams(SHARED)))
        for name, title, streams in evaluations:
            before = None
            if not args.no_compare:
                before = total(run(db_for, streams, lead_words=0))
            scores = run(db_for, streams, lead_words=after)
            report(f"{title} [lead-ins on]", scores, args.verbose)
            if name.endswith("+teasers"):
                stuck, every = one_group_teasers(streams)
                print(f"teasers in sources whose articles are all related (one group: nothing "
                      f"can be learned there): {stuck} of {every}")
            compared.append((name, before, total(scores)))
    if not args.no_compare:
        print("\n== before (lead-ins off) / after (lead-ins on), totals")
        print(f"{'evaluation':16} {'boil':>5} {'recall':>15} {'teas':>5} {'teaser recall':>15} "
              f"{'real':>6} {'lost':>11} {'lost%':>17} {'ms/art':>13}")
        for name, b, a in compared:
            assert b is not None
            print(f"{name:16} {a.boilerplate:5} {b.recall:7.3f}{a.recall:8.3f} {a.teasers:5} "
                  f"{b.teaser_recall:7.3f}{a.teaser_recall:8.3f} {a.real:6} {b.lost:5}{a.lost:6} "
                  f"{b.lost_share:8.4f}{a.lost_share:9.4f} {b.ms_per_article:6.2f}"
                  f"{a.ms_per_article:7.2f}")
    print(f"\nload average: {_load()} ({os.cpu_count()} cores)")


def demo_streams_crawled(tmp: Path) -> Streams:
    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.context import Context
    from babelwire.demo.newsroom import DemoNewsroom
    from tests.support.factories import make_settings
    from tests.test_boilerplate import demo_streams

    with DemoNewsroom() as room:
        ctx = Context.open(make_settings(tmp / "crawl"), catalog=catalog_from_specs(
            room.sources()))
        try:
            return demo_streams(ctx, room)
        finally:
            ctx.close()


if __name__ == "__main__":
    main()
