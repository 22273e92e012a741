"""The CPU-bound part of ingesting a page, as one pure function that runs in a worker
process: decode, extract, identify the language, fingerprint and compress. The pipeline
then only has to check for duplicates and write, in one transaction."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from babelwire.ingest import dedup
from babelwire.ingest.charset import decode_body
from babelwire.ingest.extract import Extracted, extract
from babelwire.ingest.langid import identify_language
from babelwire.ingest.pagetype import PageSignals, page_signals
from babelwire.ingest.scripted import script_body_html
from babelwire.ingest.textsize import word_equivalents

# Paragraphs of at least this many words (English-word equivalents, in any script) are
# hashed to find wire copies (see pipeline).
PARAGRAPH_MIN_WORDS = 8
# A page whose markup gives fewer words is also looked for a body in its scripts.
SCRIPTED_BODY_BELOW = 40
# zlib level of the stored raw page: on the shared news pages level 1 takes 1.9 ms a page
# for 22.7% of the size, level 6 4.7 ms for 19.2% (a worker's time is the ingest rate)
PAGE_COMPRESSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PageInput:
    """A fetched page, from the network or from a WARC record."""

    url: str
    status: int
    body: bytes
    content_type: str | None = None
    charset: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    fetched_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Prepared:
    extracted: Extracted
    language: str | None
    confidence: float
    hints: tuple[str, ...]
    words: int  # English-word equivalents (textsize.word_equivalents), in any script
    content_hash: str
    fingerprint: int  # unsigned 64-bit
    paragraphs: dict[int, int]  # signed 64-bit paragraph hash -> words
    body_z: bytes  # the page body, zlib-compressed
    signals: PageSignals = field(default_factory=PageSignals)  # what the markup says it is


def paragraph_hashes(extracted: Extracted) -> dict[int, int]:
    """Signed 64-bit hash -> word count, for the article's longer paragraphs."""
    out: dict[int, int] = {}
    for block in extracted.blocks:
        words = word_equivalents(block.text)
        if words >= PARAGRAPH_MIN_WORDS:
            out[dedup.to_signed64(int(dedup.content_hash(block.text)[:16], 16))] = words
    return out


def prepare_page(page: PageInput, hints: Sequence[str] = ()) -> Prepared:
    """Everything about a page that needs no database. `hints` are language hints from
    the feed and the catalogue; the page's own come from the extraction."""
    charset = page.charset
    if charset is None:
        ctype = next((v for k, v in page.headers.items() if k.lower() == "content-type"), "")
        if "charset=" in ctype.lower():
            charset = ctype.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'")
    html, _encoding = decode_body(page.body, charset)
    extracted = extract(html, page.url)
    words = word_equivalents(extracted.text)
    if words < SCRIPTED_BODY_BELOW and (scripted := script_body_html(html)) is not None:
        # the body may be only in the page's scripts (a Next.js payload): read it there
        blocks = extract(scripted, page.url).blocks
        if (more := word_equivalents("\n\n".join(b.text for b in blocks))) > words:
            extracted, words = replace(extracted, blocks=blocks), more
    all_hints = tuple(dict.fromkeys([*extracted.language_hints, *hints]))
    text = extracted.text
    guess = identify_language(text or (extracted.title or ""), all_hints)
    return Prepared(
        extracted=extracted, language=guess.language, confidence=guess.confidence,
        hints=all_hints, words=words, content_hash=dedup.content_hash(text),
        fingerprint=dedup.simhash(text), paragraphs=paragraph_hashes(extracted),
        body_z=zlib.compress(page.body, PAGE_COMPRESSION), signals=page_signals(html))
