"""Scale-out: pages/s end to end (fetch from a loopback newsroom, extract, clean, langid,
dedup, store, embed, place in a story) on PostgreSQL, with the in-process runner, then with
1 and 2 Celery workers (`babelwire worker`, Redis), in one run.

Pages: the real news pages of ../shared/data (fundus, trafilatura-eval), served at N distinct
URLs (cycling; a repeated page is stored as a duplicate, which is ingest work all the same;
the outcomes are printed). Translation is off (the eager Apertium pass is measured by
benchmarks/translate.py). Needs PostgreSQL (--db, default the local trust-auth server) and
redis-server. Usage: python benchmarks/scale.py [--pages 5000] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.ingest import SHARED, PageServer, load_pages  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _schema_url(base: str, schema: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}
                                            ).render_as_string(hide_password=False)


def _fresh_schema(base: str) -> tuple[str, str]:
    from sqlalchemy import text

    from babelwire.store.database import make_engine

    schema = f"bw_scale_{uuid.uuid4().hex[:8]}"
    eng = make_engine(base)
    with eng.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    return schema, _schema_url(base, schema)


def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import text

    from babelwire.store.database import make_engine

    eng = make_engine(base)
    with eng.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


def one_run(base_db: str, urls: list[str], *, workers: int, concurrency: int,
            redis_url: str, tmp: Path) -> tuple[float, dict[str, int]]:
    import asyncio

    from babelwire.catalog.loader import catalog_from_specs
    from babelwire.config import Settings
    from babelwire.context import Context
    from babelwire.ingest import pipeline
    from babelwire.jobs.runner import make_runner
    from babelwire.store import queries

    schema, db = _fresh_schema(base_db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BABELWIRE_")}
    common = {"BABELWIRE_DATA_DIR": str(tmp / f"data-{schema}"), "BABELWIRE_DATABASE_URL": db,
              "BABELWIRE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8", "BABELWIRE_FETCH_MIN_DELAY": "0",
              "BABELWIRE_TRANSLATE": "0", "BABELWIRE_EXTRACT_PROCESSES": "1" if workers else "0"}
    if workers:
        common["BABELWIRE_BROKER_URL"] = redis_url
    env.update(common)
    procs = []
    try:
        settings = Settings.load(env=common)
        ctx = Context.open(settings, catalog=catalog_from_specs([]))
        ids = [pipeline.add_url(ctx, u)[0] for u in urls]
        for i in range(workers):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "babelwire", "worker", "-c", str(concurrency)],
                env=env, stdout=(tmp / f"worker-{schema}-{i}.log").open("wb"),
                stderr=subprocess.STDOUT, start_new_session=True))
        if workers:
            time.sleep(8)  # workers up (each loads its modules; the model on first job)

        async def run() -> None:
            runner = make_runner(ctx, concurrency=concurrency * 2)
            for aid in ids:
                runner.submit("ingest", aid)
            await runner.join()
            await ctx.aclose()

        t0 = time.perf_counter()
        asyncio.run(run())
        rate = len(urls) / (time.perf_counter() - t0)
        with ctx.db.session() as s:
            counts = queries.status_counts(s)
            counts["vectors"] = int(queries.system_counts(s, now=pipeline.utcnow())["vectors"])
        ctx.close()
        return rate, counts
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(60)
        _drop_schema(base_db, schema)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=5000)
    ap.add_argument("--db", default=os.environ.get("BABELWIRE_TEST_DATABASE_URL", PG))
    ap.add_argument("--concurrency", type=int, default=2, help="processes per worker")
    args = ap.parse_args()
    if not SHARED.exists():
        print(f"skipped: {SHARED} not found")
        return 0
    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        print("redis-server not installed (make test-deps)")
        return 1
    pages = load_pages(10_000)
    server = PageServer([pages[i % len(pages)] for i in range(args.pages)])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/{i}.html" for i in range(args.pages)]
    print(f"pages: {args.pages} URLs over {len(pages)} distinct real pages; PostgreSQL; "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        port = 6390 + os.getpid() % 100
        redis = subprocess.Popen([redis_bin, "--port", str(port), "--save", "",
                                  "--appendonly", "no", "--dir", tmpdir],
                                 stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            for workers in (0, 1, 2):
                rate, counts = one_run(args.db, urls, workers=workers,
                                       concurrency=args.concurrency,
                                       redis_url=f"redis://127.0.0.1:{port}/0", tmp=tmp)
                label = "in-process" if not workers else f"{workers} worker(s) x {args.concurrency}"
                print(f"{label:>18}: {rate:7.1f} pages/s  {dict(sorted(counts.items()))}",
                      flush=True)
        finally:
            redis.terminate()
            redis.wait(10)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
