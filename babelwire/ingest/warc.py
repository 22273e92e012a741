"""WARC in and out: CC-NEWS archives in through the same pipeline, raw pages back out."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import IO, Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from babelwire.context import Context
from babelwire.ingest import pipeline
from babelwire.ingest.prepare import PAGE_COMPRESSION
from babelwire.ingest.warcreader import NotAWarc, Response, WarcReader, file_key
from babelwire.jobs.runner import RunStats
from babelwire.store import checkpoints, queries
from babelwire.store.models import DUPLICATE, PENDING, READY, Article

LOGGER = logging.getLogger(__name__)

class WarcError(RuntimeError):
    """A WARC file could not be read at all."""


@dataclass
class WarcSummary:
    """What an import did. Every response-like record read (response, revisit, damaged) is
    ``stored``, a duplicate or skipped for a reason, so the counts add up to ``records``."""
    records: int = 0  # response and revisit records read, damaged ones included
    resumed: int = 0  # records done by an earlier, interrupted import: not read again
    stored: int = 0  # new articles stored
    duplicates: int = 0  # the article was already stored (same URL or same content)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    files: int = 0
    other: int = 0  # warcinfo, request, metadata records: not pages
    bytes_read: int = 0  # of all the files, for progress
    bytes_total: int = 0
    seconds: float = 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "records": self.records, "resumed": self.resumed,
                "stored": self.stored,
                "duplicates": self.duplicates, "skipped": dict(sorted(self.skipped.items())),
                "other_records": self.other, "seconds": round(self.seconds, 2),
                "records_per_second": round(self.records_per_second, 1)}


def _warc_date(value: str | None) -> datetime:
    if value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


def _store_record(ctx: Context, response: Response, summary: WarcSummary,
                  submitted: set[int]) -> int | None:
    """Keep a response's page for its article (PENDING) and return the article to ingest;
    None when the record is counted here (opted out, bad URL, known)."""
    url = response.url
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
    with ctx.db.session() as s:
        art = s.get(Article, article_id)
        assert art is not None
        if art.status in (READY, DUPLICATE):
            summary.duplicates += 1
            return None
        # skipped or failed before: the record may do better; the page and the PENDING
        # state in one transaction, so an interrupted import resumes from the store
        art.status, art.attempts = PENDING, 0
        queries.save_page(s, article_id, final_url=url, http_status=response.status,
                          content_type=response.content_type or None,
                          headers=response.headers, fetched_at=_warc_date(response.date),
                          body_z=zlib.compress(response.body, PAGE_COMPRESSION),
                          size=len(response.body))
    submitted.add(article_id)
    return article_id


def _add_outcomes(summary: WarcSummary, stats: RunStats) -> WarcSummary:
    """The summary so far: what the read counted, plus the ingest jobs' outcomes."""
    out = replace(summary, skipped=Counter(summary.skipped))
    out.stored = stats.articles[READY]
    out.duplicates += stats.articles[DUPLICATE]
    for key, n in stats.reasons.items():
        status, _, reason = key.partition(":")
        if status != DUPLICATE:
            out.skipped[reason or status] += n
    return out


# how many submitted records may wait for the pipeline (their pages are in the store; the
# reader slows down instead of filling it)
BACKLOG = 256
# how often (seconds) an import writes how far it has got in each file
CHECKPOINT_EVERY = 1.0


class _Checkpoint:
    """Where a resumed import may start reading one file: the start of the first record
    whose article is still being ingested, or where reading has got to when none is. The
    records read after it are read again on a resume (their articles are found stored, or
    finished then); nothing before it is."""

    def __init__(self, ctx: Context, key: str, path: str, reader: WarcReader,
                 base: checkpoints.Mark | None) -> None:
        self.ctx, self.key, self.path, self.reader = ctx, key, path, reader
        self.base_records = base.records if base else 0
        # submitted records in file order: (record start, article, records before it)
        self.waiting: deque[tuple[int, int, int]] = deque()
        self.saved = -1

    def submitted(self, response: Response, article_id: int) -> None:
        self.waiting.append((response.offset, article_id, self.reader.records - 1))

    def save(self) -> None:
        """Drop the leading records whose ingest has ended, then write the mark."""
        with self.ctx.db.session() as s:
            while self.waiting:
                head = [aid for _, aid, _ in itertools.islice(self.waiting, 500)]
                pending = checkpoints.still_pending(s, head)
                while self.waiting and self.waiting[0][1] not in pending:
                    self.waiting.popleft()
                if self.waiting and self.waiting[0][1] in pending:
                    break
            if self.waiting:
                offset, _, records = self.waiting[0]
            else:
                offset, records = self.reader.position, self.reader.records
            if offset != self.saved:
                checkpoints.save(s, self.key, self.path,
                                 checkpoints.Mark(offset, self.base_records + records))
                self.saved = offset


async def import_warc(ctx: Context, paths: Sequence[Path | str],
                      progress: Callable[[WarcSummary], None] | None = None) -> WarcSummary:
    """Run every HTML response record of the files through the pipeline: each page is
    stored for its article and ingested by the same jobs as a crawled page (then indexed
    and translated like one), prepared in parallel by the runner's workers. The files are
    streamed (memory stays flat however large they are) and damage is survived record by
    record (see warcreader). Resumable: how far each file is done is checkpointed in the
    store, so run again after an interruption, even a SIGKILL, it reads on from there and
    finishes what was left (records read after the checkpoint are found stored and counted
    as duplicates). A file imported to the end has no checkpoint: importing it again reads
    it again."""
    from babelwire.ingest.crawl import submit_unfinished
    from babelwire.jobs.runner import make_runner

    summary = WarcSummary()  # what the import itself counts; the readers count the rest
    submitted: set[int] = set()
    started = time.monotonic()
    with ExitStack() as files:
        readers: list[WarcReader] = []
        marks: list[_Checkpoint] = []
        keys: dict[str, Path | str] = {}
        for path in paths:  # every file is checked before the first record is imported
            try:
                stream = files.enter_context(open(path, "rb"))
                key = file_key(stream)
                if key in keys:  # named twice (or a copy): one checkpoint, read once
                    ctx.log.warning("%s: the same file as %s, read once", path, keys[key])
                    continue
                keys[key] = path
                with ctx.db.session() as s:
                    base = checkpoints.load(s, key)
                reader = WarcReader(stream, path, ctx.settings.fetch_max_bytes,
                                    start=base.offset if base else 0)
            except OSError as exc:
                raise WarcError(f"{path}: {exc.strerror}") from exc
            except NotAWarc as exc:
                raise WarcError(f"{path}: {exc}") from exc
            if base and reader.start:
                summary.resumed += base.records
                ctx.log.info("%s: resuming at byte %d of %d (%d records done before)",
                             path, reader.start, reader.size, base.records)
            readers.append(reader)
            marks.append(_Checkpoint(ctx, key, str(path), reader,
                                     base if reader.start else None))

        def snapshot() -> WarcSummary:
            return replace(summary, records=sum(r.records for r in readers),
                           other=sum(r.other for r in readers),
                           skipped=sum((r.counts for r in readers), Counter(summary.skipped)),
                           bytes_read=sum(r.position for r in readers),
                           bytes_total=sum(r.size for r in readers),
                           seconds=time.monotonic() - started)

        def report(stats: RunStats) -> None:
            if progress:
                progress(_add_outcomes(snapshot(), stats))

        runner = make_runner(ctx, progress=report)
        try:
            for reader, mark in zip(readers, marks, strict=True):
                summary.files += 1
                saved_at = time.monotonic()
                for response in reader:
                    aid = _store_record(ctx, response, summary, submitted)
                    if aid is not None:
                        runner.submit("ingest", aid)
                        mark.submitted(response, aid)
                    await asyncio.sleep(0)
                    while runner.outstanding > BACKLOG:
                        await asyncio.sleep(0.05)
                    report(runner.stats)
                    if time.monotonic() - saved_at >= CHECKPOINT_EVERY:
                        mark.save()
                        saved_at = time.monotonic()
                mark.save()
            if summary.resumed:  # what the interrupted run stored but did not index or
                submit_unfinished(ctx, runner)  # translate; after reading, not before it
            joined = asyncio.ensure_future(runner.join())
            while not joined.done():  # the last records' ingest moves the checkpoints on
                await asyncio.wait({joined}, timeout=CHECKPOINT_EVERY)
                for mark in marks:
                    mark.save()
            stats = await joined
        finally:
            await runner.close()
        with ctx.db.session() as s:  # every file read to the end and every job done
            checkpoints.remove(s, [m.key for m in marks])
        return _add_outcomes(snapshot(), stats)


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
