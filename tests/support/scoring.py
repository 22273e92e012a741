"""Extraction and language-id scoring on the shared evaluation pages.

Shared by the CI gate (tests/test_quality_extraction.py) and the on-demand report
(benchmarks/extraction_quality.py), so both always print the same figures.

- fundus-parser-testdata: title exact match (after whitespace normalisation), body F1 on
  word 4-gram shingles of lowercased tokens (Han and kana characters count as one token
  each, as those scripts write no spaces), macro-averaged over pages, and language accuracy.
- trafilatura-eval: ``with`` snippets found are true positives, missing ones false
  negatives; ``without`` snippets found are false positives, absent ones true negatives;
  counts are summed over pages (micro average) and matched after whitespace normalisation,
  as trafilatura's own evaluation does.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

SHINGLE = 4
FUNDUS = "fundus-parser-testdata"
TRAFILATURA_EVAL = "trafilatura-eval"


# ---------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class FundusPage:
    path: Path
    url: str
    language: str
    title: str
    body: str  # summary, section headlines and paragraphs, one per line

    def html(self) -> bytes:
        return gzip.decompress(self.path.read_bytes())


@dataclass(frozen=True)
class EvalPage:
    path: Path
    url: str
    with_: tuple[str, ...]
    without: tuple[str, ...]

    def html(self) -> bytes:
        return gzip.decompress(self.path.read_bytes())


def load_fundus(data_dir: Path) -> list[FundusPage]:
    root = data_dir / FUNDUS
    pages: list[FundusPage] = []
    truth_files: dict[Path, dict[str, dict[str, object]]] = {}
    for entry in json.loads((root / "index.derived.json").read_text(encoding="utf-8")):
        truth_path = root / entry["ground_truth_json"]
        if truth_path not in truth_files:
            truth_files[truth_path] = json.loads(truth_path.read_text(encoding="utf-8"))
        truth = truth_files[truth_path][entry["version_key"]]
        body = truth["body"]
        assert isinstance(body, dict)
        parts = list(body.get("summary", []))
        for section in body.get("sections", []):
            parts.extend(section.get("headline", []))
            parts.extend(section.get("paragraphs", []))
        pages.append(FundusPage(path=root / entry["html"], url=entry["url"],
                                language=entry["language"], title=str(truth.get("title") or ""),
                                body="\n".join(parts)))
    return pages


def load_trafilatura_eval(data_dir: Path, every: int = 1) -> list[EvalPage]:
    """The annotated pages in a fixed order; ``every`` > 1 keeps every n-th one."""
    root = data_dir / TRAFILATURA_EVAL
    data = json.loads((root / "evaldata.json").read_text(encoding="utf-8"))
    pages = [EvalPage(path=root / "html" / f"{item['file']}.gz", url=url,
                      with_=tuple(item["with"]), without=tuple(item["without"]))
             for url, item in sorted(data.items())]
    return pages[::every]


# ---------------------------------------------------------------------------- text


_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"), None)


def normalize_space(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.translate(_INVISIBLE).lower())


def shingles(text: str, n: int = SHINGLE) -> set[tuple[str, ...]]:
    words = tokens(text)
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def shingle_f1(predicted: str, expected: str) -> float:
    got, want = shingles(predicted), shingles(expected)
    if not got and not want:
        return 1.0
    common = len(got & want)
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


# ---------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class PageOutput:
    """What an extractor made of one page; None where it does not say."""

    text: str | None
    title: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class FundusScores:
    pages: int
    title_exact: float
    body_f1: float
    language_accuracy: float


@dataclass
class SnippetCounts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, page: EvalPage, text: str | None) -> None:
        found = normalize_space(text) if text else ""
        hits = sum(1 for s in page.with_ if found and normalize_space(s) in found)
        leaks = sum(1 for s in page.without if found and normalize_space(s) in found)
        self.tp += hits
        self.fn += len(page.with_) - hits
        self.fp += leaks
        self.tn += len(page.without) - leaks

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def score_fundus(pages: Sequence[FundusPage],
                 run: Callable[[FundusPage], PageOutput]) -> FundusScores:
    titles = f1_sum = languages = 0.0
    for page in pages:
        out = run(page)
        titles += normalize_space(out.title or "") == normalize_space(page.title)
        f1_sum += shingle_f1(out.text or "", page.body)
        languages += out.language == page.language
    n = len(pages) or 1
    return FundusScores(pages=len(pages), title_exact=titles / n, body_f1=f1_sum / n,
                        language_accuracy=languages / n)


def score_snippets(pages: Iterable[EvalPage],
                   run: Callable[[EvalPage], str | None]) -> SnippetCounts:
    counts = SnippetCounts()
    for page in pages:
        counts.add(page, run(page))
    return counts
