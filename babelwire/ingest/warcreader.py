"""Reading WARC files as they come from the web: streamed record by record (constant memory),
each response with its body read and checked, and damage survived. A broken gzip member, a
truncated record or garbage between records is counted by reason and reading goes on at the
next record (the next gzip member, or the next ``WARC/1.x`` line of a plain file) instead of
ending the file there: one bad member in a 1 GB CC-NEWS file costs one record, not the rest."""

from __future__ import annotations

import hashlib
import logging
import os
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator

from babelwire.ingest.fetch import HTML_TYPES

LOGGER = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGIC = b"WARC/1."
DAMAGE = {"broken_gzip": "broken gzip member", "unreadable_record": "unreadable record",
          "truncated": "truncated record"}
# how far ahead of a damaged record the next one is looked for, a chunk at a time
SCAN_CHUNK = 1 << 20


class NotAWarc(ValueError):
    """The file does not begin like a WARC (or ARC) archive, plain or gzipped."""


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response record, its body read whole."""
    url: str
    date: str | None
    status: int  # 0 when the status line is not a number
    content_type: str  # lower case, without parameters; "" when absent
    headers: dict[str, str]
    body: bytes
    offset: int = 0  # where its record begins in the file


def _begins_a_record(head: bytes, gzipped: bool) -> bool:
    if gzipped:
        if not head.startswith(GZIP_MAGIC):
            return False
        try:
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 64)
        except zlib.error:
            return False
    return head.startswith(WARC_MAGIC) or head.startswith(b"filedesc://")


def is_gzipped(stream: IO[bytes]) -> bool:
    """Whether the file is gzipped; raises NotAWarc when it is no WARC at all."""
    stream.seek(0)
    head = stream.read(4096)
    stream.seek(0)
    gzipped = head[:2] == b"\x1f\x8b"
    if not _begins_a_record(head, gzipped):
        raise NotAWarc("not a WARC file")
    return gzipped


def file_key(stream: IO[bytes]) -> str:
    """An identity for a WARC file that survives a move or a rename: its size and a digest
    of its first MiB (a CC-NEWS file's first records are its own)."""
    size = os.fstat(stream.fileno()).st_size
    stream.seek(0)
    head = hashlib.sha256(stream.read(1 << 20)).hexdigest()[:40]
    stream.seek(0)
    return f"{size}:{head}"


class WarcReader:
    """The HTML responses of one file, as they are read. ``records`` is every response-like
    record met (response, revisit, damaged); ``counts`` gives the reason for each of them not
    handed on; ``other`` counts the records that are not pages (warcinfo, request, metadata);
    ``position`` is how far into the file reading has got (for a progress bar). With
    ``start``, reading begins at that byte (where an earlier, interrupted import got to); a
    ``start`` that does not begin a record is ignored and reading begins at 0."""

    def __init__(self, stream: IO[bytes], path: Path | str, max_bytes: int,
                 start: int = 0) -> None:
        self.stream = stream
        self.path = path
        self.max_bytes = max_bytes
        self.gzipped = is_gzipped(stream)
        self.size = os.fstat(stream.fileno()).st_size
        if start:  # a plain file's position ends before the blank lines after a record
            start = self._skip_blank_lines(start)
        self.start = start if start and self._record_at(start) else 0
        if start and not self.start:
            LOGGER.warning("%s: the checkpoint at byte %d is not the start of a record; "
                           "reading from the beginning", path, start)
        self.position = self.start
        self.records = 0  # response and revisit records, and damaged ones
        self.other = 0  # warcinfo, request, metadata, resource...
        self.counts: Counter[str] = Counter()

    def _record_at(self, offset: int) -> bool:
        if offset >= self.size:
            return offset == self.size
        self.stream.seek(offset)
        return _begins_a_record(self.stream.read(4096), self.gzipped)

    def __iter__(self) -> Iterator[Response]:
        start: int | None = self.start
        while start is not None:
            self.stream.seek(start)
            archive = ArchiveIterator(self.stream)
            good_end = start  # where the last record read whole ends
            current = start  # where the record being read begins
            try:
                for record in archive:
                    current = max(current, archive.offset)
                    response = self._read(record)
                    begins = archive.get_record_offset()
                    good_end = begins + archive.get_record_length()
                    current = self.position = good_end
                    if response is not None:
                        yield replace(response, offset=begins)
            except Exception as exc:  # warcio fails in many ways on damage
                damaged_at = self._skip_blank_lines(max(current, good_end))
                self._damaged("broken_gzip" if self.gzipped else "unreadable_record",
                              damaged_at, exc)
                start = self._next_record(damaged_at + 1)
                continue
            start = None
            if self._unread_tail(good_end):
                # warcio stopped before the end without a word: a truncated last record,
                # or damage after which it saw no record
                self._damaged("truncated", good_end, None)
                start = self._next_record(good_end + 1)
        self.position = self.size

    def _read(self, record: Any) -> Response | None:
        kind = record.rec_type
        if kind not in ("response", "revisit"):
            self.other += 1
            return None
        self.records += 1
        if kind == "revisit":
            self.counts["revisit"] += 1
            return None
        url = record.rec_headers.get_header("WARC-Target-URI")
        http = record.http_headers
        if not url or http is None:
            self.counts["no_http_response"] += 1
            return None
        ctype = (http.get_header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and ctype not in HTML_TYPES:
            self.counts["not_html"] += 1
            return None
        code = http.get_statuscode() or "0"
        status = int(code) if code.isascii() and code.isdigit() else 0  # "2x0" (fuzzing)
        if status != 200:
            self.counts["http_status"] += 1
            return None
        body = record.content_stream().read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            self.counts["too_large"] += 1
            return None
        if getattr(record.raw_stream, "limit", 0) > 0:  # the file ended inside the record
            self.counts["truncated"] += 1
            return None
        return Response(url=url, date=record.rec_headers.get_header("WARC-Date"),
                        status=status, content_type=ctype, headers=dict(http.headers),
                        body=body)

    def _damaged(self, reason: str, offset: int, exc: BaseException | None) -> None:
        self.records += 1
        self.counts[reason] += 1
        LOGGER.warning("%s: %s at byte %d, skipped%s", self.path, DAMAGE[reason], offset,
                       f" ({type(exc).__name__}: {str(exc)[:80]!r})" if exc else "")

    def _skip_blank_lines(self, offset: int) -> int:
        """The first byte at or after ``offset`` that is not a blank line."""
        self.stream.seek(offset)
        head = self.stream.read(4096)
        return offset + len(head) - len(head.lstrip(b"\r\n"))

    def _unread_tail(self, end: int) -> bool:
        """Whether anything but blank lines is left after byte ``end``."""
        if end >= self.size:
            return False
        self.stream.seek(end)
        return bool(self.stream.read(SCAN_CHUNK).strip(b"\r\n\x00"))

    def _next_record(self, after: int) -> int | None:
        """The offset of the first record that begins after byte ``after``, or None."""
        magic = GZIP_MAGIC if self.gzipped else WARC_MAGIC
        pos = after
        while pos < self.size:
            self.stream.seek(pos)
            chunk = self.stream.read(SCAN_CHUNK + 4096)
            at = chunk.find(magic)
            while at != -1 and at < SCAN_CHUNK:
                candidate = pos + at
                at_line_start = self.gzipped or at == 0 or chunk[at - 1:at] == b"\n"
                if at_line_start and _begins_a_record(chunk[at:at + 4096], self.gzipped):
                    LOGGER.info("%s: reading on at byte %d", self.path, candidate)
                    return candidate
                at = chunk.find(magic, at + 1)
            pos += SCAN_CHUNK
        return None

