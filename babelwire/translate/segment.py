"""Splitting block text into sentences for translation, and joining them back.

Sentences are the unit of the translation memory and of failure isolation: one sentence an
engine cannot translate is kept in the original, not the whole paragraph. The splitter is
language-agnostic (punctuation and case), with guards for abbreviations, initials, numbers
and URLs; it never loses or reorders text: `join(split(text))` gives back `text` with the
same sentences, and the separators kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# A sentence ends at . ! ? … (and their CJK forms), possibly followed by closing quotes or
# brackets, then whitespace, then something that can start a sentence.
_END = re.compile(
    r"""(?<=[.!?…。！？])["'”’»)\]]*(\s+)(?=["'“‘«(\[¿¡—–-]*[\w\d])""",
    re.UNICODE,
)
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr sra sres st no nos vs etc e.g i.e approx dept gen gov lt col
    sgt capt mt ft av ave jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp
    jr u.s u.k u.n p.m a.m fig vol pp ed eds art núm pág sr srta d dña dª ст г гг им т.е
    т.д т.п ул пр тис млн млрд mme mlle m cf""".split()  # noqa: SIM905
)
MAX_SEGMENT_CHARS = 1500  # longer "sentences" are cut at a comma or space near this size


@dataclass(frozen=True)
class Piece:
    text: str  # a sentence (translate it)
    tail: str  # the whitespace after it (keep it)


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.rstrip(".").lstrip("(\"'«“").lower()
    if not word:
        return False
    if word in _ABBREVIATIONS:
        return True
    # initials ("J. K. Rowling") and single letters; ordinals in some languages ("3. Mai")
    return len(word) == 1 and word.isalpha()


def _next_starts_lower(text: str, pos: int) -> bool:
    for ch in text[pos:pos + 4]:
        if ch.isalpha():
            return ch.islower()
        if ch.isdigit():
            return False
    return False


def split_sentences(text: str) -> list[Piece]:
    """Sentences of `text` with the whitespace that followed each."""
    pieces: list[Piece] = []
    start = 0
    for match in _END.finditer(text):
        end = match.start(1)
        before = text[start:end]
        if before.endswith(".") and (_is_abbreviation(before) or
                                     _next_starts_lower(text, match.end())):
            continue
        pieces.append(Piece(text[start:end], match.group(1)))
        start = match.end()
    if start < len(text):
        pieces.append(Piece(text[start:], ""))
    out: list[Piece] = []
    for piece in pieces:
        out.extend(_cut_long(piece))
    return out


def _cut_long(piece: Piece) -> list[Piece]:
    """Cut at a comma or a space near MAX_SEGMENT_CHARS, else anywhere; the spaces at a cut
    become the first part's tail exactly as they were (none at a hard cut)."""
    text, parts = piece.text, []
    while len(text) > MAX_SEGMENT_CHARS:
        cut = max(text.rfind(", ", 0, MAX_SEGMENT_CHARS), text.rfind("; ", 0, MAX_SEGMENT_CHARS))
        if cut > MAX_SEGMENT_CHARS // 2:
            cut += 1  # keep the comma with the first part
        else:
            cut = text.rfind(" ", 0, MAX_SEGMENT_CHARS)
        head = text[:cut].rstrip(" ") if cut > 0 else ""
        if not head:  # no space to cut at (or only leading ones)
            head, cut = text[:MAX_SEGMENT_CHARS], MAX_SEGMENT_CHARS
        after = len(text) - len(text[cut:].lstrip(" "))
        parts.append(Piece(head, text[len(head):after]))
        text = text[after:]
    parts.append(Piece(text, piece.tail))
    return parts


def join(pieces: list[Piece], texts: list[str]) -> str:
    """Put translated sentences back with the original whitespace between them."""
    return "".join(t + p.tail for p, t in zip(pieces, texts, strict=True))


def normalise(text: str) -> str:
    """The form a segment is looked up by in the translation memory."""
    return " ".join(unicodedata.normalize("NFC", text).split())
