"""Highlighted snippets, made in Python from the matched document's own text (the index
holds stems), with the document language's stemmer: the words the query found, marked."""

from __future__ import annotations

from dataclasses import dataclass

from babelwire.store.search.analyze import WORD, fold, stem_words

WIDTH = 32  # words in a snippet


@dataclass(frozen=True)
class Snippet:
    text: str
    marks: tuple[tuple[int, int], ...]  # [start, end) character offsets of matched words

    def parts(self) -> list[tuple[str, bool]]:
        """The text cut into (piece, matched) runs, for a template to mark up."""
        out: list[tuple[str, bool]] = []
        pos = 0
        for start, end in self.marks:
            if start > pos:
                out.append((self.text[pos:start], False))
            out.append((self.text[start:end], True))
            pos = end
        if pos < len(self.text):
            out.append((self.text[pos:], False))
        return out


def _spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in WORD.finditer(text)]


def snippet(texts: list[str], query_words: tuple[str, ...], language: str | None,
            width: int = WIDTH) -> Snippet:
    """The `width`-word window with the most matched words in the first paragraph of
    `texts` (body, summary, title, in the caller's order) that has any; else the opening of
    the first non-empty one, unmarked."""
    wanted = set(stem_words(list(query_words), language)) | {fold(w) for w in query_words}
    fallback: Snippet | None = None
    # paragraph by paragraph: the first with a matched word ends the work
    pieces = [p for text in texts if text for p in text.split("\n")]
    # a cheap look first: an ASCII paragraph holds a matched word only if it holds the
    # opening of a stem (Snowball stems are the opening of the word, or nearly)
    probes = {w[:4] for w in wanted if w}
    for text in pieces:
        if not text:
            continue
        if fallback is not None and text.isascii():
            low = text.lower()
            if not any(p in low for p in probes):
                continue
        spans = _spans(text)
        if not spans:
            continue
        stemmed = stem_words([w for _, _, w in spans], language)
        hits = [i for i, s in enumerate(stemmed) if s in wanted]
        if not hits:
            if fallback is None:
                fallback = _cut(text, spans, 0, width, [])
            continue
        best_start, best_n = hits[0], 0
        j = 0
        for i, h in enumerate(hits):  # the window starting at each hit
            while j < len(hits) and hits[j] < h + width:
                j += 1
            if j - i > best_n:
                best_start, best_n = h, j - i
        start = max(0, min(best_start - width // 4, len(spans) - width))
        return _cut(text, spans, start, width, hits)
    return fallback or Snippet("", ())


def _cut(text: str, spans: list[tuple[int, int, str]], start: int, width: int,
         hits: list[int]) -> Snippet:
    end = min(len(spans), start + width)
    lo, hi = spans[start][0], spans[end - 1][1]
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(spans) else ""
    body = " ".join(text[lo:hi].split())
    # offsets are taken again in the whitespace-collapsed text
    marks: list[tuple[int, int]] = []
    wanted_idx = {i - start for i in hits if start <= i < end}
    for k, m in enumerate(WORD.finditer(body)):
        if k in wanted_idx:
            marks.append((len(prefix) + m.start(), len(prefix) + m.end()))
    return Snippet(prefix + body + suffix, tuple(marks))
