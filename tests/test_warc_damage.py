"""WARC files as they come: a broken gzip member, a truncated record, garbage between
records, revisits. Each is counted by reason and reading goes on at the next record; and an
import killed with SIGKILL halfway finishes on the next run with nothing lost or doubled."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.ingest.warc import _Checkpoint, import_warc
from babelwire.ingest.warcreader import WarcReader, file_key
from babelwire.store import checkpoints
from babelwire.store.models import READY, SKIPPED, Article, Page
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


def test_a_reader_starts_at_a_checkpoint_or_at_0_when_it_is_not_a_record(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data, offs = build(6)
    path = tmp_path / "t.warc.gz"
    path.write_bytes(data)
    with path.open("rb") as fh:
        reader = WarcReader(fh, path, max_bytes=1_000_000, start=offs[3])
        assert reader.position == offs[3]
        got = [(r.url, r.offset) for r in reader]
    assert got == [(url_of(i), offs[i]) for i in (3, 4, 5)]
    assert reader.records == 3 and reader.other == 0
    with path.open("rb") as fh:  # a checkpoint from another file, or a stale one
        reader = WarcReader(fh, path, max_bytes=1_000_000, start=offs[3] + 5)
        assert [r.url for r in reader] == [url_of(i) for i in range(6)]
    assert "not the start of a record" in caplog.text


def test_a_plain_file_resumes_where_its_reader_had_got_to(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """In a plain file a record's end (the reader's position, which a checkpoint keeps) is
    before the blank lines that part it from the next record."""
    data, _ = build(4, gzip=False)
    path = tmp_path / "t.warc"
    path.write_bytes(data)
    with path.open("rb") as fh:
        reader = WarcReader(fh, path, max_bytes=1_000_000)
        next(iter(reader))
        position = reader.position
    with path.open("rb") as fh:
        reader = WarcReader(fh, path, max_bytes=1_000_000, start=position)
        assert [r.url for r in reader] == [url_of(i) for i in (1, 2, 3)]
    assert "not the start of a record" not in caplog.text


def _context(tmp_path: Path) -> Context:
    return Context.open(make_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/w.db",
                                      embedder="none"), catalog=catalog_from_specs([]))


def test_the_checkpoint_stops_at_the_first_article_still_being_ingested(
        tmp_path: Path) -> None:
    data, offs = build(5)
    path = tmp_path / "t.warc.gz"
    path.write_bytes(data)
    ctx = _context(tmp_path)
    try:
        with path.open("rb") as fh:
            reader = WarcReader(fh, path, max_bytes=1_000_000)
            mark = _Checkpoint(ctx, file_key(fh), str(path), reader, None)
            ids = []
            for response in reader:
                aid, _ = pipeline.add_url(ctx, response.url)  # PENDING, as the import does
                ids.append(aid)
                mark.submitted(response, aid)
            with ctx.db.session() as s:
                for aid in ids[:2] + ids[3:]:  # all ingested but the third
                    s.get_one(Article, aid).status = READY
            mark.save()
            with ctx.db.session() as s:
                assert checkpoints.load(s, mark.key) == checkpoints.Mark(offs[2], 2)
            with ctx.db.session() as s:
                s.get_one(Article, ids[2]).status = SKIPPED
            mark.save()
            with ctx.db.session() as s:
                assert checkpoints.load(s, mark.key) == checkpoints.Mark(offs[5], 5)
    finally:
        ctx.close()


def test_an_import_reads_on_from_its_checkpoint_and_then_removes_it(tmp_path: Path) -> None:
    data, offs = build(8)
    path = tmp_path / "t.warc.gz"
    path.write_bytes(data)
    ctx = _context(tmp_path)
    try:
        with path.open("rb") as fh, ctx.db.session() as s:  # as an interrupted run left it
            key = file_key(fh)
            checkpoints.save(s, key, str(path), checkpoints.Mark(offs[5], 5))
        summary = asyncio.run(import_warc(ctx, [path]))
        assert summary.resumed == 5 and summary.records == 3 and summary.stored == 3
        assert summary.to_json()["resumed"] == 5
        with ctx.db.session() as s:
            ready = set(s.scalars(select(Article.url).where(Article.status == READY)))
            assert checkpoints.load(s, key) is None  # the file was imported to the end
        assert ready == {url_of(i) for i in (5, 6, 7)}  # records before it were not read
        again = asyncio.run(import_warc(ctx, [path]))  # no checkpoint: read whole again
        assert again.resumed == 0 and again.records == 8
        assert again.stored == 5 and again.duplicates == 3
    finally:
        ctx.close()


def test_a_file_named_twice_or_copied_is_read_once_with_one_checkpoint(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Two names for the same bytes share a checkpoint: reading both would let the second
    copy's position overwrite the first's, so the import reads the file once."""
    data, offs = build(6)
    path, copy = tmp_path / "t.warc.gz", tmp_path / "copy.warc.gz"
    path.write_bytes(data)
    copy.write_bytes(data)
    ctx = _context(tmp_path)
    try:
        with path.open("rb") as fh, ctx.db.session() as s:  # an interrupted run's checkpoint
            key = file_key(fh)
            checkpoints.save(s, key, str(path), checkpoints.Mark(offs[2], 2))
        with caplog.at_level(logging.WARNING):
            summary = asyncio.run(import_warc(ctx, [path, copy, path]))
        assert summary.files == 1 and summary.resumed == 2 and summary.records == 4
        assert caplog.text.count("the same file as") == 2
        with ctx.db.session() as s:
            assert checkpoints.load(s, key) is None
            stored = set(s.scalars(select(Article.url)))
        assert stored == {url_of(i) for i in range(2, 6)}
    finally:
        ctx.close()


def _ready_count(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM articles WHERE status = ?",
                                    (READY,)).fetchone()[0])
    except sqlite3.Error:  # not created yet
        return 0


def _checkpoint_offset(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            row = conn.execute("SELECT max(\"offset\") FROM warc_checkpoints").fetchone()
            return int(row[0] or 0)
    except sqlite3.Error:  # not created yet
        return 0


def test_an_import_killed_halfway_finishes_on_the_next_run(tmp_path: Path) -> None:
    n = 120
    data, offsets = build(n)
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
    while ((_ready_count(db) < n // 4 or _checkpoint_offset(db) <= offsets[0])
           and first.poll() is None and time.monotonic() < deadline):
        time.sleep(0.05)
    assert first.poll() is None, "the import ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed_at = _ready_count(db)
    assert 0 < killed_at < n

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=400)
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    # it read on from the checkpoint; records after it are read again and found stored
    assert summary["resumed"] > 0 and summary["records"] + summary["resumed"] == n
    assert summary["stored"] + summary["duplicates"] == summary["records"]
    assert not summary["skipped"]
    assert summary["resumed"] + summary["duplicates"] >= killed_at  # none of it redone
    assert _checkpoint_offset(db) == 0  # finished: no checkpoint left

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
