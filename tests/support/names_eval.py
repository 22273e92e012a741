"""Proper names on NTREX-128, shared by benchmarks/names.py and the gate in tests/test_names.py.

`names kept`: of the capitalised words after the first word of a sentence (in the source)
that the human reference keeps verbatim, the share that the output keeps verbatim (counted
per occurrence, case-sensitively, as whole words). Non-English sides of NTREX are translations
of English, so X->Y is scored with ref.X as input and ref.Y as reference; a language with
several references (Serbo-Croatian: Croatian, Serbian in Latin script, Bosnian) is read from
the first and scored against all of them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# BCP 47 (as Babelwire names Apertium's pairs) -> NTREX file stems (ISO 639-3), first = input
NTREX_LANGS: dict[str, tuple[str, ...]] = {
    "en": ("src.eng",), "af": ("ref.afr",), "be": ("ref.bel",), "bg": ("ref.bul",),
    "ca": ("ref.cat",), "da": ("ref.dan",), "es": ("ref.spa",), "eu": ("ref.eus",),
    "fr": ("ref.fra",), "gl": ("ref.glg",), "hi": ("ref.hin",), "id": ("ref.ind",),
    "is": ("ref.isl",), "it": ("ref.ita",), "mk": ("ref.mkd",), "nb": ("ref.nob",),
    "nn": ("ref.nno",), "nl": ("ref.nld",), "pl": ("ref.pol",), "pt": ("ref.por",),
    "ro": ("ref.ron",), "ru": ("ref.rus",), "sh": ("ref.hrv", "ref.srp-Latn", "ref.bos"),
    "hr": ("ref.hrv",), "bs": ("ref.bos",), "sr": ("ref.srp-Latn", "ref.srp-Cyrl"),
    "sl": ("ref.slv",), "sv": ("ref.swe",), "uk": ("ref.ukr",), "zlm": ("ref.msa",),
}
FOCUS = [("en", "es"), ("es", "en"), ("fr", "es"), ("pt", "es")]

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_SENTENCE_END = re.compile(r"[.!?…]['\"”’»)\]]*$")


def read(ntrex: Path, stem: str, limit: int | None = None) -> list[str]:
    text = (ntrex / f"newstest2019-{stem}.txt").read_text(encoding="utf-8")
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines[:limit] if limit else lines


def pairs_with_data(engine_pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The engine's pairs that NTREX has both sides of: the four focus pairs first."""
    have = [p for p in engine_pairs if p[0] in NTREX_LANGS and p[1] in NTREX_LANGS]
    return [p for p in FOCUS if p in have] + sorted(p for p in have if p not in FOCUS)


def documents(ntrex: Path, limit: int | None = None) -> list[tuple[int, int]]:
    """(start, end) line ranges of the NTREX documents, in file order."""
    ids = [line.strip() for line in
           (ntrex / "DOCUMENT_IDS.tsv").read_text(encoding="utf-8").splitlines()]
    if limit:
        ids = ids[:limit]
    ranges: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[start]:
            ranges.append((start, i))
            start = i
    return ranges


def name_candidates(line: str) -> Counter[str]:
    """Capitalised words of a line that are not the first word of a sentence."""
    out: Counter[str] = Counter()
    first = True
    for m in re.finditer(r"\S+", line):
        token = m.group()
        words = _WORD.findall(token)
        for k, word in enumerate(words):
            if not (first and k == 0) and word[0].isupper():
                out[word] += 1
        if words:
            first = False
        if _SENTENCE_END.search(token):
            first = True
    return out


def _words(line: str) -> Counter[str]:
    return Counter(_WORD.findall(line))


@dataclass
class NameCount:
    kept: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.kept / self.total if self.total else 1.0


def names_kept(sources: Sequence[str], outputs: Sequence[str],
               refs: Sequence[Sequence[str]]) -> NameCount:
    """`refs`: one list of lines per reference; a word counts when any reference keeps it."""
    count = NameCount()
    for i, (src, out) in enumerate(zip(sources, outputs, strict=True)):
        ref_words = [_words(r[i]) for r in refs]
        out_words = _words(out)
        for word, n in name_candidates(src).items():
            in_ref = max(rw[word] for rw in ref_words)
            wanted = min(n, in_ref)
            if wanted:
                count.total += wanted
                count.kept += min(wanted, out_words[word])
    return count


def chrf(outputs: Sequence[str], refs: Sequence[Sequence[str]]) -> float:
    import sacrebleu

    return float(sacrebleu.corpus_chrf(list(outputs), [list(r) for r in refs]).score)
