"""WARC in and out: CC-NEWS archives in through the same pipeline, raw pages back out."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.jobs.runner import RunStats
from babelwire.store import queries
from babelwire.store.models import DUPLICATE, PENDING, READY, Article

LOGGER = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")


class WarcError(RuntimeError):
    """A WARC file could not be read at all."""


@dataclass
class WarcSummary:
    records: int = 0  # response records read
    stored: int = 0  # new articles stored
    duplicates: int = 0  # the article was already stored (same URL or same content)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    files: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "records": self.records, "stored": self.stored,
                "duplicates": self.duplicates, "skipped": dict(sorted(self.skipped.items()))}


def _check_warc(stream: IO[bytes], path: Path | str) -> None:
    """Refuse a file that is not a WARC (or ARC) archive, plain or gzipped, before warcio
    tries to read it leniently."""
    import zlib

    head = stream.read(4096)
    stream.seek(0)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 64)
        except zlib.error:
            head = b""
    if not (head.startswith(b"WARC/") or head.startswith(b"filedesc://")):
        raise WarcError(f"{path}: not a WARC file")


def _warc_date(value: str | None) -> datetime:
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def _store_record(ctx: Context, record: Any, summary: WarcSummary,
                  submitted: set[int]) -> int | None:
    """Keep a response record's page for its article (PENDING) and return the article to
    ingest; None when the record is counted here (not HTML, not 200, opted out, known)."""
    url = record.rec_headers.get_header("WARC-Target-URI")
    http = record.http_headers
    if not url or http is None:
        summary.skipped["no_http_response"] += 1
        return None
    ctype_header = http.get_header("Content-Type") or ""
    ctype = ctype_header.split(";")[0].strip().lower()
    if ctype and ctype not in HTML_TYPES:
        summary.skipped["not_html"] += 1
        return None
    code = http.get_statuscode() or "0"
    status = int(code) if code.isascii() and code.isdigit() else 0  # "2x0" (fuzzing)
    if status != 200:
        summary.skipped["http_status"] += 1
        return None
    spec = ctx.catalog.match(url)
    if spec is not None and spec.opt_out:
        summary.skipped["opt_out"] += 1
        return None
    try:
        article_id, _created = pipeline.add_url(ctx, url)
    except ValueError:
        summary.skipped["bad_url"] += 1
        return None
    if article_id in submitted:  # the same page twice in this import
        summary.duplicates += 1
        return None
    body = record.content_stream().read()
    headers = {k: v for k, v in http.headers}
    with ctx.db.session() as s:
        art = s.get(Article, article_id)
        assert art is not None
        if art.status in (READY, DUPLICATE):
            summary.duplicates += 1
            return None
        # skipped or failed before: the record may do better; the page and the PENDING
        # state in one transaction, so an interrupted import resumes from the store
        art.status, art.attempts = PENDING, 0
        queries.save_page(s, article_id, final_url=url, http_status=status,
                          content_type=ctype or None, headers=headers,
                          fetched_at=_warc_date(record.rec_headers.get_header("WARC-Date")),
                          body_z=zlib.compress(body, 1), size=len(body))
    submitted.add(article_id)
    return article_id


def _add_outcomes(summary: WarcSummary, stats: RunStats) -> WarcSummary:
    """The summary so far: what the read counted, plus the ingest jobs' outcomes."""
    out = WarcSummary(records=summary.records, duplicates=summary.duplicates,
                      skipped=Counter(summary.skipped), files=summary.files)
    out.stored = stats.articles[READY]
    out.duplicates += stats.articles[DUPLICATE]
    for key, n in stats.reasons.items():
        status, _, reason = key.partition(":")
        if status != DUPLICATE:
            out.skipped[reason or status] += n
    return out


def _records(stream: IO[bytes], path: Path | str, summary: WarcSummary) -> Iterator[Any]:
    """warcio's records; a damaged record that warcio fails on in its own way (found by
    fuzzing: AttributeError on a record without WARC-Target-URI) ends the file there,
    counted as one unreadable record instead of stopping the import."""
    records = iter(ArchiveIterator(stream))
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except ArchiveLoadFailed:
            raise
        except Exception as exc:
            LOGGER.warning("%s: unreadable record, rest of the file skipped: %r", path, exc)
            summary.records += 1
            summary.skipped["unreadable_record"] += 1
            return
        yield record


# how many submitted records may wait for the pipeline (their pages are in the store; the
# reader slows down instead of filling it)
BACKLOG = 256


async def import_warc(ctx: Context, paths: Sequence[Path | str],
                      progress: Callable[[WarcSummary], None] | None = None) -> WarcSummary:
    """Run every HTML response record of the files through the pipeline: each page is
    stored for its article and ingested by the same jobs as a crawled page (then indexed
    and translated like one). Resumable: run again after an interruption, it finishes
    what was left and counts what was done as duplicates."""
    from babelwire.jobs.runner import make_runner

    summary = WarcSummary()
    submitted: set[int] = set()

    def report(stats: RunStats) -> None:
        if progress:
            progress(_add_outcomes(summary, stats))

    runner = make_runner(ctx, progress=report)
    try:
        for path in paths:
            try:
                stream: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed below
            except OSError as exc:
                raise WarcError(f"{path}: {exc.strerror}") from exc
            with stream:
                summary.files += 1
                _check_warc(stream, path)
                try:
                    for record in _records(stream, path, summary):
                        if record.rec_type != "response":
                            continue
                        summary.records += 1
                        aid = _store_record(ctx, record, summary, submitted)
                        if aid is not None:
                            runner.submit("ingest", aid)
                        await asyncio.sleep(0)
                        while runner.outstanding > BACKLOG:
                            await asyncio.sleep(0.05)
                        report(runner.stats)
                except ArchiveLoadFailed as exc:
                    raise WarcError(f"{path}: not a readable WARC file ({exc})") from exc
        stats = await runner.join()
    finally:
        await runner.close()
    return _add_outcomes(summary, stats)


def export_warc(ctx: Context, out: IO[bytes], *, source_ids: Iterable[str] | None = None,
                gzip: bool = True) -> int:
    """Write the stored raw pages as WARC response records; returns how many."""
    writer = WARCWriter(out, gzip=gzip)
    written, since = 0, 0
    ids = list(source_ids) if source_ids else None
    while True:
        with ctx.db.session() as s:
            batch = queries.article_ids_with_pages(s, source_ids=ids, since_id=since)
            pages = [(aid, queries.load_page(s, aid)) for aid in batch]
        if not batch:
            return written
        for aid, loaded in pages:
            since = aid
            if loaded is None:
                continue
            page, body = loaded
            headers = [(k, v) for k, v in (page.headers or {}).items()
                       if k.lower() not in ("content-encoding", "transfer-encoding",
                                            "content-length")]
            if page.content_type and not any(k.lower() == "content-type" for k, _ in headers):
                headers.append(("Content-Type", page.content_type))
            http = StatusAndHeaders(f"{page.http_status} OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                page.final_url, "response", payload=BytesIO(body), length=len(body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": page.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")})
            writer.write_record(record)
            written += 1
