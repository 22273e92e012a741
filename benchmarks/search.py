"""Search latency on a seeded store (benchmarks/_seed.py), beside a bare index query.

For a fixed set of queries — one and two words of the generator's vocabulary (common), a
place and a subject (narrow), three words from the middle of a stored body (a rare phrase),
and English words searched through the translations — it times, on the same store:

- `search`: babelwire.store.search.search, the whole thing the page and the API call
  (index query ranked by relevance and recency, one hit per article, visibility, items,
  snippets), 20 hits per page;
- the anchor: a bare FTS5 `MATCH ... ORDER BY rank LIMIT 20` (SQLite) or
  `tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 20` (PostgreSQL) on the same index.

Targets (issue 12): p50 <= 20 ms, p99 <= 50 ms at 1,000,000 articles.

Usage: python benchmarks/search.py [--articles N] [--repeat R]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text  # noqa: E402

from benchmarks import _seed  # noqa: E402


def queries(db: object, n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, language, query) triples."""
    from babelwire.store.database import Database
    from babelwire.store.models import Block

    assert isinstance(db, Database)
    out: list[tuple[str, str, str]] = []
    for _ in range(n):
        out.append(("common word", "en", rng.choice(_seed.SUBJECTS)))
        out.append(("two words", "en", f"{rng.choice(_seed.ADJECTIVES)} "
                                       f"{rng.choice(_seed.NOUNS)}"))
        out.append(("place+subject", "en", f"{rng.choice(_seed.PLACES)} "
                                           f"{rng.choice(_seed.SUBJECTS)}"))
    with db.session() as s:
        top = s.scalar(text("SELECT max(id) FROM articles")) or 1
        for _ in range(n):
            aid = rng.randint(1, top)
            body = s.scalars(select(Block.text).where(Block.article_id == aid)).all()
            lang = s.scalar(text("SELECT language FROM articles WHERE id = :i"), {"i": aid})
            words = " ".join(body).split()
            mid = len(words) // 2
            out.append(("body phrase", lang or "en", " ".join(words[mid:mid + 3])))
    return out


def anchor(db: object) -> Callable[[str, str], int]:
    from babelwire.store.database import Database
    from babelwire.store.search import parse
    from babelwire.store.search.pg_fts import tsquery
    from babelwire.store.search.sqlite_fts import match_expression

    assert isinstance(db, Database)
    if db.backend == "sqlite":
        sql = text("SELECT rowid FROM search_fts WHERE search_fts MATCH :m "
                   "ORDER BY rank LIMIT 20")

        def bare(q: str, lang: str) -> int:
            m = match_expression(parse(q), lang)
            with db.engine.connect() as conn:
                return len(conn.execute(sql, {"m": m}).all())
        return bare
    def bare_pg(q: str, lang: str) -> int:
        found = tsquery(parse(q), lang)
        assert found is not None
        sql_q, params = found
        pg = text(f"SELECT id FROM search_docs, {sql_q} q WHERE tsv @@ q "
                  "ORDER BY ts_rank(tsv, q) DESC LIMIT 20")
        with db.engine.connect() as conn:
            return len(conn.execute(pg, params).all())
    return bare_pg


def full(db: object) -> Callable[[str, str], int]:
    from babelwire.store.database import Database
    from babelwire.store.search import search

    assert isinstance(db, Database)

    def run(q: str, lang: str) -> int:
        with db.session() as s:
            return len(search(s, q, lang, limit=20).hits)
    return run


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(fn: Callable[[str, str], int], qs: list[tuple[str, str, str]], repeat: int
            ) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for _ in range(repeat):
        for kind, lang, q in qs:
            t0 = time.perf_counter()
            fn(q, lang)
            ms = (time.perf_counter() - t0) * 1000
            times.setdefault(kind, []).append(ms)
            times.setdefault("all", []).append(ms)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--url", help="a seeded store's URL instead of the cached SQLite one")
    ap.add_argument("--queries", type=int, default=50, help="queries of each kind")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from babelwire.store.database import Database

    url = args.url or f"sqlite:///{_seed.cached_db(args.articles).path}"
    db = Database(url)
    articles = 0
    with db.session() as s:
        articles = s.scalar(text("SELECT count(*) FROM articles")) or 0
        docs = s.scalar(text("SELECT count(*) FROM search_docs")) or 0
    qs = queries(db, args.queries, random.Random(12))
    for fn in (anchor(db), full(db)):  # warm the caches
        measure(fn, qs[:20], 1)
    bare = measure(anchor(db), qs, args.repeat)
    ours = measure(full(db), qs, args.repeat)
    print(f"{db.backend}: {articles} articles, {docs} search documents; "
          f"{len(qs)} queries x {args.repeat}")
    print(f"{'kind':<15} {'search p50':>10} {'p99':>8}   {'bare p50':>9} {'p99':>8}")
    for kind in ("all", *dict.fromkeys(k for k, _, _ in qs)):
        a, b = ours[kind], bare[kind]
        print(f"{kind:<15} {statistics.median(a):>8.1f}ms {percentile(a, 99):>6.1f}ms   "
              f"{statistics.median(b):>7.1f}ms {percentile(b, 99):>6.1f}ms")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
