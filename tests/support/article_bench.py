"""Body F1 by the ScrapingHub article-extraction-benchmark metric, and the real pages of
mozilla-readability-test-pages as a second body set beside fundus.

The metric (https://github.com/scrapinghub/article-extraction-benchmark, ``evaluate.py``):
tokens are ``\\w+`` runs (case kept); each text is the multiset of its word 4-grams; per page
tp/fp/fn are the multiset intersection and differences, normalised to sum to 1; precision
and recall are averaged over the pages that have them (macro), and F1 is their harmonic
mean. Scoring is ours; the rule is theirs.

Dev and held-out: every page gets a stable half by a hash of its name (fundus: of its
publisher, so one publisher's pages never sit on both sides), so a heuristic tuned on the
dev half is checked on pages it never saw.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.scoring import FundusPage

READABILITY = "mozilla-readability-test-pages"
NGRAM = 4

_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Counts:
    tp: float
    fp: float
    fn: float


def shingle_counts(predicted: str | None, expected: str | None) -> Counts:
    """The page's normalised (tp, fp, fn) over word 4-gram multisets."""
    got, want = _ngrams(predicted or ""), _ngrams(expected or "")
    tp = float(sum((got & want).values()))
    fp = float(sum((got - want).values()))
    fn = float(sum((want - got).values()))
    total = tp + fp + fn
    if total:
        tp, fp, fn = tp / total, fp / total, fn / total
    return Counts(tp, fp, fn)


def _ngrams(text: str) -> Counter[tuple[str, ...]]:
    words = _TOKEN.findall(text)
    return Counter(tuple(words[i:i + NGRAM]) for i in range(max(1, len(words) - NGRAM + 1))
                   if words[i:i + NGRAM])


@dataclass(frozen=True)
class BodyScore:
    pages: int
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _precision(c: Counts) -> float:
    if c.fp == c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0


def _recall(c: Counts) -> float:
    if c.fp == c.fn == 0:
        return 1.0
    return c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0


def macro(counts: Sequence[Counts]) -> BodyScore:
    ps = [_precision(c) for c in counts if c.tp + c.fp > 0]
    rs = [_recall(c) for c in counts if c.tp + c.fn > 0]
    return BodyScore(len(counts), statistics.mean(ps) if ps else 0.0,
                     statistics.mean(rs) if rs else 0.0)


# ---------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class ReadabilityPage:
    name: str
    path: Path
    title: str
    body: str  # expected.html as text, a block a line

    def html(self) -> bytes:
        return (self.path / "source.html").read_bytes()


_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr",
           "td", "th", "br", "figcaption", "section", "article", "dt", "dd", "table", "ul",
           "ol"}


def html_text(markup: str) -> str:
    """The text of an HTML fragment, block elements on lines of their own."""
    import lxml.html

    root = lxml.html.fromstring(markup or "<div></div>")
    parts: list[str] = []

    def walk(el: lxml.html.HtmlElement) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in {"script", "style", "noscript", "template"}:
            return
        block = tag in _BLOCKS
        if block:
            parts.append("\n")
        parts.append(el.text or "")
        for child in el:
            walk(child)
            parts.append(child.tail or "")
        if block:
            parts.append("\n")

    walk(root)
    return "\n".join(" ".join(line.split()) for line in "".join(parts).splitlines()
                     if line.strip())


def load_readability(data_dir: Path) -> list[ReadabilityPage]:
    """The real pages (not the synthetic lorem-ipsum cases), sorted by name."""
    root = data_dir / READABILITY
    index = json.loads((root / "lang_index.derived.json").read_text(encoding="utf-8"))
    pages: list[ReadabilityPage] = []
    for name in sorted(index):
        if index[name].get("synthetic_lorem_ipsum"):
            continue
        folder = root / name
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        body = html_text((folder / "expected.html").read_text(encoding="utf-8"))
        pages.append(ReadabilityPage(name, folder, str(meta.get("title") or ""), body))
    return pages


def half(key: str) -> str:
    """'dev' or 'held-out', stable across runs and machines."""
    return "dev" if hashlib.sha1(key.encode("utf-8")).digest()[0] % 2 == 0 else "held-out"


def fundus_half(page: FundusPage) -> str:
    return half(page.path.name.split("_")[0])


def readability_half(page: ReadabilityPage) -> str:
    return half(page.name)


def score_bodies(pages: Iterable[tuple[str | None, str]]) -> BodyScore:
    """(predicted, expected) pairs -> macro precision/recall/F1."""
    return macro([shingle_counts(p, e) for p, e in pages])
