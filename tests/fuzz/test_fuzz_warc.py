"""Fuzzing the WARC reader: a small real-shaped archive (warcinfo, request, response,
revisit and non-HTML records), mutated and truncated, imported through the real pipeline
into SQLite. Only WarcError may come out, and the summary always adds up."""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.warc import WarcError, WarcSummary, import_warc
from tests.support.factories import make_settings
from tests.test_page_type import BRIEF, JA, TEASER


def _archive(gzip: bool) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    writer.write_record(writer.create_warcinfo_record("fuzz.warc", {"software": "fuzz"}))
    for i, (html, ctype) in enumerate([(BRIEF, "text/html"), (JA, "text/html; charset=utf-8"),
                                       (TEASER, "text/html"), ("PNG", "image/png")]):
        body = html.encode()
        url = f"https://fuzz.example/news/{i}.html"
        req = StatusAndHeaders(f"GET /news/{i}.html HTTP/1.1", [("Host", "fuzz.example")],
                               is_http_request=True)
        writer.write_record(writer.create_warc_record(url, "request", http_headers=req))
        http = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      length=len(body), http_headers=http))
    writer.write_record(writer.create_revisit_record(
        "https://fuzz.example/news/0.html", digest="sha1:AAAA", refers_to_uri="x",
        refers_to_date="2026-11-30T00:00:00Z"))
    return out.getvalue()


SEEDS = [_archive(True), _archive(False)]


@pytest.fixture(scope="module")
def ctx() -> Iterator[Context]:
    with tempfile.TemporaryDirectory() as d:
        c = Context.open(make_settings(Path(d), database_url=f"sqlite:///{d}/fuzz.db"),
                         catalog=catalog_from_specs([]))
        yield c
        c.close()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    # a fresh host for each example (same length: the records' lengths stay right), so its
    # pages are new articles that go through extraction, not duplicates of the last one
    host = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=4))
    data = bytearray(SEEDS[draw(st.integers(0, 1))].replace(b"fuzz.example",
                                                             f"{host}.example".encode()))
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(data) - 1)) if data else 0
        op = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.one_of(st.binary(max_size=16), st.sampled_from([
                b"Content-Length: 99999999\r\n", b"WARC/1.0\r\n", b"\r\n\r\n",
                b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/html\r\n", b"\x1f\x8b\x08"])))
        else:
            del data[pos:pos + draw(st.integers(1, 64))]
    return bytes(data)


@given(st.one_of(mutated(), st.binary(max_size=200)))
def test_a_damaged_warc_is_imported_or_refused(ctx: Context, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(suffix=".warc.gz") as fh:
        fh.write(data)
        fh.flush()
        try:
            summary = asyncio.run(import_warc(ctx, [fh.name]))
        except WarcError:
            return
    assert summary.files == 1
    assert summary.records == (summary.stored + summary.duplicates
                               + sum(summary.skipped.values()))


def _import_bytes(ctx: Context, data: bytes) -> WarcSummary:
    with tempfile.NamedTemporaryFile(suffix=".warc") as fh:
        fh.write(data)
        fh.flush()
        return asyncio.run(import_warc(ctx, [fh.name]))


def test_a_record_without_its_target_uri_ends_the_file_counted(ctx: Context) -> None:
    # found by fuzzing: warcio raised AttributeError and the whole import stopped
    data = SEEDS[1].replace(b"WARC-Target-URI: https://fuzz.example/news/1.html\r\n", b"", 1)
    summary = _import_bytes(ctx, data)
    assert summary.skipped["unreadable_record"] == 1
    assert summary.records == (summary.stored + summary.duplicates
                               + sum(summary.skipped.values()))


def test_a_response_with_a_broken_status_code_is_skipped(ctx: Context) -> None:
    # found by fuzzing: int("2x0") raised ValueError out of the import
    data = SEEDS[1].replace(b"HTTP/1.1 200 OK", b"HTTP/1.1 2x0 OK", 1)
    summary = _import_bytes(ctx, data)
    assert summary.skipped["http_status"] >= 1
