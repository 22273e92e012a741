"""WARC files as they come: a broken gzip member, a truncated record, garbage between
records, revisits. Each is counted by reason and reading goes on at the next record; and an
import killed with SIGKILL halfway finishes on the next run with nothing lost or doubled."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.warc import import_warc
from babelwire.ingest.warcreader import WarcReader
from babelwire.store.models import READY, Article, Page
from tests.support.factories import make_settings

WORDS = [
    "harbour", "council", "minister", "storm", "river", "election", "budget", "school",
    "train", "bridge", "museum", "festival", "court", "police", "hospital", "farmers",
    "market", "village", "mayor", "weather", "report", "league", "union", "factory",
    "workers", "strike", "airport", "bank", "theatre", "island", "coast", "mountain",
    "road", "station", "library", "university"]


def news_page(i: int) -> bytes:
    """A distinct article page: its own words, so no two are near-duplicates."""
    rng = random.Random(i)
    title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize() + f" {i}"
    paras = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
        for _ in range(4))
    return (f'<!doctype html><html lang="en"><head><title>{title}</title></head><body>'
            f"<article><h1>{title}</h1>{paras}</article></body></html>").encode()


def url_of(i: int) -> str:
    return f"https://gazette.example/2026/12/story-{i}.html"


def build(n: int, *, gzip: bool = True) -> tuple[bytes, list[int]]:
    """A WARC of a warcinfo record and n responses; the offsets where each response
    begins, and the end of the file last."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record("t.warc", {"software": "test"}))
    offsets = []
    for i in range(n):
        offsets.append(out.tell())
        body = news_page(i)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url_of(i), "response",
                                                      payload=io.BytesIO(body),
                                                      length=len(body), http_headers=http))
    offsets.append(out.tell())
    return out.getvalue(), offsets


def read(tmp_path: Path, data: bytes) -> tuple[WarcReader, list[str]]:
    path = tmp_path / "t.warc"
    path.write_bytes(data)
    with path.open("rb") as fh:
        reader = WarcReader(fh, path, max_bytes=1_000_000)
        urls = [r.url for r in reader]
    return reader, urls


def test_a_broken_gzip_member_costs_one_record(tmp_path: Path) -> None:
    data, offs = build(6)
    damaged = bytearray(data)
    middle = (offs[2] + offs[3]) // 2
    damaged[middle:middle + 40] = b"\x00garbage!" * 5
    reader, urls = read(tmp_path, bytes(damaged))
    assert urls == [url_of(i) for i in (0, 1, 3, 4, 5)]
    assert reader.counts == {"broken_gzip": 1}
    assert reader.records == 6 and reader.other == 1
    assert reader.position == reader.size


def test_a_truncated_last_member_is_counted(tmp_path: Path) -> None:
    data, offs = build(4)
    reader, urls = read(tmp_path, data[:(offs[3] + offs[4]) // 2])
    assert urls == [url_of(i) for i in range(3)]
    assert reader.counts == {"truncated": 1} and reader.records == 4


def test_a_truncated_plain_record_is_counted_not_stored(tmp_path: Path) -> None:
    data, offs = build(4, gzip=False)
    reader, urls = read(tmp_path, data[:(offs[3] + offs[4]) // 2])
    assert urls == [url_of(i) for i in range(3)]
    assert reader.counts == {"truncated": 1}


def test_a_damaged_header_in_a_plain_file_costs_one_record(tmp_path: Path) -> None:
    data, offs = build(5, gzip=False)
    damaged = bytearray(data)
    damaged[offs[1]:offs[1] + 8] = b"XXXXXXXX"  # "WARC/1.0" of the second response
    reader, urls = read(tmp_path, bytes(damaged))
    assert urls == [url_of(i) for i in (0, 2, 3, 4)]
    assert reader.counts == {"unreadable_record": 1}


def test_garbage_between_members_is_skipped(tmp_path: Path) -> None:
    data, offs = build(4)
    spliced = data[:offs[2]] + os.urandom(3000) + data[offs[2]:]
    reader, urls = read(tmp_path, spliced)
    assert urls == [url_of(i) for i in range(4)]
    assert reader.counts == {"broken_gzip": 1}


def test_revisits_and_other_records_are_counted_apart(tmp_path: Path) -> None:
    data, _ = build(2)
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_revisit_record(
        url_of(0), digest="sha1:AAAA", refers_to_uri=url_of(0),
        refers_to_date="2026-12-01T00:00:00Z"))
    writer.write_record(writer.create_warc_record(url_of(1), "metadata",
                                                  payload=io.BytesIO(b"k: v\r\n"), length=6))
    reader, urls = read(tmp_path, data + out.getvalue())
    assert urls == [url_of(0), url_of(1)]
    assert reader.counts == {"revisit": 1}
    assert reader.records == 3 and reader.other == 2  # warcinfo and metadata


def test_an_import_reads_on_after_damage_and_adds_up(tmp_path: Path) -> None:
    data, offs = build(6)
    damaged = bytearray(data)
    middle = (offs[2] + offs[3]) // 2
    damaged[middle:middle + 40] = b"\x00garbage!" * 5
    path = tmp_path / "d.warc.gz"
    path.write_bytes(bytes(damaged))
    ctx = Context.open(make_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/w.db",
                                     embedder="none"), catalog=catalog_from_specs([]))
    try:
        summary = asyncio.run(import_warc(ctx, [path]))
        with ctx.db.session() as s:
            ready = set(s.scalars(select(Article.url).where(Article.status == READY)))
    finally:
        ctx.close()
    assert ready == {url_of(i) for i in (0, 1, 3, 4, 5)}
    assert summary.stored == 5 and summary.skipped == {"broken_gzip": 1}
    assert summary.records == 6 == summary.stored + summary.duplicates + 1
    assert summary.other == 1 and summary.bytes_read == summary.bytes_total == len(damaged)


def _ready_count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM articles WHERE status = ?",
                                    (READY,)).fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


def test_an_import_killed_halfway_finishes_on_the_next_run(tmp_path: Path) -> None:
    n = 120
    data, _ = build(n)
    warc = tmp_path / "big.warc.gz"
    warc.write_bytes(data)
    db = tmp_path / "kill.db"
    env = {**os.environ, "BABELWIRE_DATA_DIR": str(tmp_path / "data"),
           "BABELWIRE_EMBEDDER": "none", "BABELWIRE_TRANSLATE": "false",
           "BABELWIRE_EXTRACT_PROCESSES": "1"}
    env.pop("BABELWIRE_DATABASE_URL", None)
    command = [sys.executable, "-m", "babelwire", "--db", f"sqlite:///{db}", "import-warc",
               "--format", "json", str(warc)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while _ready_count(db) < n // 4 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the import ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = _ready_count(db)
    assert 0 < killed_at < n

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["records"] == n
    assert summary["stored"] + summary["duplicates"] == n and not summary["skipped"]
    assert summary["duplicates"] >= killed_at  # what the first run stored is not redone

    ctx = Context.open(make_settings(tmp_path, database_url=f"sqlite:///{db}"),
                       catalog=catalog_from_specs([]))
    try:
        with ctx.db.session() as s:
            urls = list(s.scalars(select(Article.url).where(Article.status == READY)))
            articles = s.scalar(select(func.count()).select_from(Article))
            pages = s.scalar(select(func.count()).select_from(Page))
    finally:
        ctx.close()
    assert sorted(urls) == sorted(url_of(i) for i in range(n))  # nothing lost
    assert articles == n and pages == n  # nothing doubled
