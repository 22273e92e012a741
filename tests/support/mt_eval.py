"""Translation evaluation on NTREX-128, shared by benchmarks/translate.py and the CI quality
gate (tests/test_quality_translation.py): our translator beside the raw `apertium` command on
the same lines, scored with sacrebleu."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NTREX_FILES = {
    "en": "newstest2019-src.eng.txt",
    "es": "newstest2019-ref.spa.txt",
    "ca": "newstest2019-ref.cat.txt",
    "fr": "newstest2019-ref.fra.txt",
    "pt": "newstest2019-ref.por.txt",
    "ru": "newstest2019-ref.rus.txt",
    "uk": "newstest2019-ref.ukr.txt",
    "de": "newstest2019-ref.deu.txt",
}
# The rest of NTREX-128's languages by their BCP 47 code (file names use ISO 639-3; Serbian
# is read in Latin script, as Apertium writes it).
NTREX_FILES.update({
    to: f"newstest2019-ref.{code}.txt" for to, code in (
        ("af", "afr"), ("ar", "arb"), ("be", "bel"), ("bs", "bos"), ("bg", "bul"),
        ("cs", "ces"), ("da", "dan"), ("el", "ell"), ("et", "est"), ("eu", "eus"),
        ("fa", "fas"), ("fi", "fin"), ("gl", "glg"), ("he", "heb"), ("hi", "hin"),
        ("hr", "hrv"), ("hu", "hun"), ("id", "ind"), ("is", "isl"), ("it", "ita"),
        ("ja", "jpn"), ("ko", "kor"), ("lv", "lav"), ("lt", "lit"), ("mk", "mkd"),
        ("ms", "msa"), ("nl", "nld"), ("nn", "nno"), ("nb", "nob"), ("pl", "pol"),
        ("ro", "ron"), ("sk", "slk"), ("sl", "slv"), ("sr", "srp-Latn"), ("sw", "swa"),
        ("sv", "swe"), ("th", "tha"), ("tr", "tur"), ("vi", "vie"), ("xh", "xho"),
        ("zh", "zho-CN"), ("zu", "zul"))})
# Apertium modes for the direct pairs (the raw command's anchor).
RAW_MODES = {
    ("en", "es"): "eng-spa", ("es", "en"): "spa-eng", ("en", "ca"): "eng-cat",
    ("ca", "en"): "cat-eng", ("fr", "es"): "fr-es", ("es", "fr"): "es-fr",
    ("es", "pt"): "es-pt", ("pt", "es"): "pt-es", ("ru", "uk"): "rus-ukr",
    ("uk", "ru"): "ukr-rus",
}
DIRECT_PAIRS = list(RAW_MODES)
PIVOT_PAIRS = [("fr", "en"), ("pt", "en"), ("en", "pt"), ("en", "fr"), ("ro", "ca")]


def read_lines(ntrex: Path, lang: str, limit: int | None = None) -> list[str]:
    text = (ntrex / NTREX_FILES[lang]).read_text(encoding="utf-8")
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    return lines[:limit] if limit else lines


def words(lines: Sequence[str]) -> int:
    return sum(len(line.split()) for line in lines)


@dataclass
class Score:
    pair: tuple[str, str]
    system: str  # "babelwire" | "raw apertium"
    lines: int
    chrf: float
    bleu: float
    lost: int  # non-empty input lines with an empty output line
    unchanged: int  # non-empty output identical to the input (not translated)
    flagged: int  # lines with a sentence kept in the original (babelwire only)
    seconds: float
    words_per_s: float
    path: str = ""

    @property
    def translated_share(self) -> float:
        return 1 - (self.lost + self.unchanged) / self.lines if self.lines else 0.0


def score(pair: tuple[str, str], system: str, sources: list[str], outputs: list[str],
          refs: list[str], seconds: float, *, flagged: int = 0, path: str = "") -> Score:
    import sacrebleu

    assert len(outputs) == len(sources) == len(refs)
    lost = sum(1 for s, o in zip(sources, outputs, strict=True) if s.strip() and not o.strip())
    unchanged = sum(1 for s, o in zip(sources, outputs, strict=True)
                    if s.strip() and o.strip() == s.strip())
    chrf = sacrebleu.corpus_chrf(outputs, [refs]).score
    bleu = sacrebleu.corpus_bleu(outputs, [refs]).score
    return Score(pair, system, len(sources), chrf, bleu, lost, unchanged, flagged, seconds,
                 words(sources) / seconds if seconds else 0.0, path)


def run_raw(pair: tuple[str, str], sources: list[str], mode: str | None = None
            ) -> tuple[list[str], float]:
    """`apertium -u MODE` over the whole input as one file: the anchor. Returns its output
    lines aligned with the input (missing lines as "", which is what a crash leaves). The
    mode is the pair's in RAW_MODES unless given."""
    mode = mode or RAW_MODES[pair]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as fh:
        fh.write("\n".join(sources) + "\n")
        fh.flush()
        t0 = time.perf_counter()
        with open(fh.name, "rb") as stdin:
            proc = subprocess.run(["apertium", "-u", mode], stdin=stdin, capture_output=True,
                                  timeout=900)
        seconds = time.perf_counter() - t0
    out = proc.stdout.decode("utf-8", errors="replace").split("\n")
    out = (out + [""] * len(sources))[:len(sources)]
    return out, seconds


def run_babelwire(translator: object, pair: tuple[str, str], sources: list[str]
                  ) -> tuple[list[str], float, int, str]:
    from babelwire.translate.translator import Translator

    assert isinstance(translator, Translator)
    t0 = time.perf_counter()
    run = translator.translate(sources, pair[0], pair[1])
    seconds = time.perf_counter() - t0
    outputs = [" ".join(r.text.splitlines()) for r in run.results]
    flagged = sum(1 for r in run.results if r.flagged)
    return outputs, seconds, flagged, "→".join(run.route.path)
