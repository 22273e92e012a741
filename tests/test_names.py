"""Proper names through Apertium (babelwire/translate/names.py): the detector on real examples
through the real engine, placeholders, and a quality gate on NTREX-128 (en->es, the first 400
lines: 28 documents, about 560 counted names; the whole file gives the same picture, see
benchmarks/names.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from babelwire.translate import names
from babelwire.translate.apertium import ApertiumEngine
from tests.support import names_eval as ne

MODES = Path("/usr/share/apertium/modes")
NTREX = Path(__file__).resolve().parents[2] / "shared" / "data" / "mt-ntrex128"
GATE_LINES = 400


def _have(*modes: str) -> bool:
    return shutil.which("apertium") is not None and all(
        (MODES / f"{m}.mode").exists() for m in modes)


needs_pairs = pytest.mark.skipif(not _have("eng-spa", "spa-eng"),
                                 reason="Apertium with apertium-eng-spa is not installed")


@pytest.fixture(scope="module")
def engine() -> Iterator[ApertiumEngine]:
    if not _have("eng-spa", "spa-eng"):
        pytest.skip("Apertium with apertium-eng-spa is not installed")
    eng = ApertiumEngine(timeout=60)
    yield eng
    eng.close()


def _found(engine: ApertiumEngine, texts: list[str], pair: tuple[str, str]) -> list[list[str]]:
    tokens = engine.analyse(texts, *pair)
    assert tokens is not None
    spans = names.find_names(texts, tokens)
    return [[t[a:b] for a, b in sp] for t, sp in zip(texts, spans, strict=True)]


# --- placeholders ------------------------------------------------------------------------

def test_protect_and_restore_round_trip() -> None:
    text = "Donald Trump met Theresa May."
    protected, kept = names.protect(text, [(7, 12), (25, 28)])
    assert kept == ["Trump", "May"]
    assert "Trump" not in protected and "May" not in protected
    assert names.restore(protected, kept) == text
    many = [f"n{i}" for i in range(500)]
    line = " ".join(names.placeholder(i) for i in range(500))
    assert names.restore(line, many) == " ".join(many)
    # case changed by the engine: still found
    assert names.restore(protected.upper().replace("DONALD", "Donald"), kept) is not None


def test_restore_refuses_lost_or_doubled_placeholders() -> None:
    protected, kept = names.protect("Trump and May", [(0, 5), (10, 13)])
    first = names.placeholder(0)
    assert names.restore(protected.replace(first, ""), kept) is None
    assert names.restore(protected + " " + first, kept) is None
    assert names.restore(protected + " " + names.placeholder(7), kept) is None
    assert names.has_placeholder(protected) and not names.has_placeholder("Bwnq")


def test_parse_units_handles_escapes_and_superblanks() -> None:
    units = names.parse_units(r"[<bw:0>]^A\/B/A\/B<n>$ ^x\$y/*x\$y$[\]]^./.<sent>$")
    assert units == [("A/B", ("A/B<n>",)), ("x$y", ("*x$y",)), (".", (".<sent>",))]


# --- the detector, through the real analyser ---------------------------------------------

@needs_pairs
def test_people_are_found(engine: ApertiumEngine) -> None:
    found = _found(engine, ["The rally was held by Donald Trump and Theresa May on Monday.",
                            "Maxine Waters spoke after Jordan Spieth."], ("en", "es"))
    assert found[0] == ["Trump", "May"]  # Donald, Theresa and Monday Apertium handles
    assert any("Waters" in f for f in found[1]) and any("Jordan" in f for f in found[1])


@needs_pairs
def test_spanish_names_are_found(engine: ApertiumEngine) -> None:
    found = _found(engine, ["La ministra Teresa Ribera visitó Talavera de la Reina y Mato "
                            "Grosso."], ("es", "en"))[0]
    assert any("Ribera" in f for f in found)
    assert "Talavera de la Reina" in found
    assert any("Mato" in f for f in found)


@needs_pairs
def test_a_name_learned_in_the_batch_holds_at_sentence_start(engine: ApertiumEngine) -> None:
    found = _found(engine, ["President Donald Trump spoke.", "Trump said he was right."],
                   ("en", "es"))
    assert found[1] == ["Trump"]


@needs_pairs
def test_common_words_stay_translatable(engine: ApertiumEngine) -> None:
    texts = ["House prices rose in May.", "On Monday the UN and NASA met in January.",
             "The Senate and the Supreme Court met in London."]
    found = _found(engine, texts, ("en", "es"))
    assert found == [[], [], []]


@needs_pairs
def test_title_case_headline_gives_no_capitalisation_evidence(engine: ApertiumEngine) -> None:
    found = _found(engine, ["Hurricane Season Brings Heavy Rain And Strong Wind To Coast"],
                   ("en", "es"))
    assert found == [[]]


# --- through the engine -------------------------------------------------------------------

@needs_pairs
def test_names_survive_translation(engine: ApertiumEngine) -> None:
    out = engine.translate(["Donald Trump met Theresa May and Maxine Waters on Monday in "
                            "London.", "Trump said the dog was in the house."], "en", "es")
    assert out[0].ok and out[1].ok
    text = out[0].text or ""
    for name in ("Trump", "Theresa May", "Maxine Waters"):
        assert name in text, text
    assert "lunes" in text and "Londres" in text  # Monday and London still translated
    assert (out[1].text or "").startswith("Trump") and "perro" in (out[1].text or "")
    es = engine.translate(["Teresa Ribera visitó Talavera de la Reina y Mato Grosso."],
                          "es", "en")[0].text or ""
    assert "Ribera" in es and "Talavera de la Reina" in es and "Mato Grosso" in es, es
    assert "visited" in es


@needs_pairs
def test_month_and_plain_words_still_translated(engine: ApertiumEngine) -> None:
    out = engine.translate(["In May the cat was in the house."], "en", "es")[0].text or ""
    assert "mayo" in out and "gato" in out and "casa" in out, out


@needs_pairs
def test_keep_names_off_is_raw_apertium() -> None:
    plain = ApertiumEngine(keep_names=False)
    try:
        out = plain.translate(["Donald Trump met Theresa May."], "en", "es")[0].text or ""
    finally:
        plain.close()
    assert "Triunfo" in out


@needs_pairs
def test_text_that_looks_like_a_placeholder_is_left_alone(engine: ApertiumEngine) -> None:
    text = f"Donald Trump wrote {names.placeholder(0)} to the dog."
    out = engine.translate([text], "en", "es")[0]
    assert out.ok and names.placeholder(0) in (out.text or "")


def test_no_analyser_means_no_protection(tmp_path: Path) -> None:
    modes = tmp_path / "modes"
    modes.mkdir()
    (modes / "eng-spa.mode").write_text("cat\n", encoding="utf-8")
    eng = ApertiumEngine(modes_dir=modes, timeout=10)
    try:
        assert eng.analyse(["Trump"], "en", "es") is None
    finally:
        eng.close()


# --- quality gate -------------------------------------------------------------------------

@needs_pairs
@pytest.mark.skipif(not NTREX.exists(), reason="../shared/data/mt-ntrex128 is absent")
def test_gate_names_kept_and_chrf_en_es() -> None:
    sources = ne.read(NTREX, "src.eng", GATE_LINES)
    refs = [ne.read(NTREX, "ref.spa", GATE_LINES)]
    docs = ne.documents(NTREX, GATE_LINES)
    scores = {}
    for keep in (False, True):
        eng = ApertiumEngine(keep_names=keep)
        try:
            out: list[str] = []
            for start, end in docs:
                for src, res in zip(sources[start:end],
                                    eng.translate(sources[start:end], "en", "es"), strict=True):
                    out.append(res.text if res.text is not None else src)
        finally:
            eng.close()
        scores[keep] = (ne.names_kept(sources, out, refs), ne.chrf(out, refs))
    (raw_names, raw_chrf), (names_kept, chrf) = scores[False], scores[True]
    assert names_kept.total > 300
    assert chrf >= raw_chrf, (chrf, raw_chrf)
    assert names_kept.share > raw_names.share + 0.08, (names_kept.share, raw_names.share)
    assert names_kept.share >= 0.90, names_kept.share
