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


# enough running text with articles for the capitalisation rules to apply (50 words)
FILLER = ["The council met on the first day of the week to discuss the budget of the city.",
          "A report from the committee said that the roads and the schools need more money.",
          "The mayor told the members of the council that the plan would be ready in a month."]


@needs_pairs
def test_a_closing_quote_does_not_open_a_sentence(engine: ApertiumEngine) -> None:
    texts = [*FILLER, '"We will win the vote for the party," Trump said on the lawn.',
             'He said: "Trump is right about the vote."']
    found = _found(engine, texts, ("en", "es"))
    assert "Trump" in found[-2]  # mid-sentence after the closing quote: a name
    # an opening quote does open one: that alone says nothing (the batch's learning aside)
    assert names._words(texts[-1], engine.analyse([texts[-1]], "en", "es")[0])[2].initial


@needs_pairs
def test_a_word_before_an_unknown_name_in_mid_sentence(engine: ApertiumEngine) -> None:
    found = _found(engine, [*FILLER, "The plane of the Air Niugini company landed in the "
                            "lagoon, and one man is missing."], ("en", "es"))[-1]
    assert any("Air" in f for f in found), found


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
    assert names_kept.share >= 0.922, names_kept.share  # measured 0.927


# --- what the pair's own dictionaries settle ----------------------------------------------

def test_an_article_suffixed_to_a_word_is_no_determiner() -> None:
    """Basque writes its article as a suffix (batu<adj>+a<det>): that word is no determiner
    (an institution after a determiner is left to Apertium; Basque has none to go by)."""
    det = 5  # the position of "det" in names._features
    assert not names._features(("batu<adj><izo>+a<det><art><pl>+ko<post>",))[det]
    assert names._features(("the<det><def><sp>",))[det]
    assert names._features(("de<pr>+el<det><def><m><sg>",))[det]  # Spanish "del"


needs_es_ca = pytest.mark.skipif(not _have("spa-cat"), reason="apertium-spa-cat is missing")


@needs_es_ca
def test_a_word_the_dictionary_knows_as_a_proper_noun_is_left_to_it() -> None:
    """"China" is a proper noun in the Spanish dictionary (and a common noun): Apertium
    translates it as the name it is (Catalan "Xina"), so capitalisation statistics alone do
    not protect it; an unknown-word name next to it still goes through."""
    eng = ApertiumEngine(timeout=60)
    try:
        texts = ["El presidente de la comisión visitó China y habló con los ministros de la "
                 "región sobre el comercio."] * 5
        tokens = eng.analyse(texts, "es", "ca")
        assert tokens is not None
        china = next(t for t in tokens[0] if t.surface == "China")
        assert any("<np>" in r for r in china.readings)
        spans = names.find_names(texts, tokens)
        assert all(texts[0][a:b] != "China" for sp in spans for a, b in sp)
        out = eng.translate(texts[:1], "es", "ca")[0].text or ""
        assert "Xina" in out, out
    finally:
        eng.close()


def test_gate_file_turns_names_off_per_pair(tmp_path: Path) -> None:
    gate = tmp_path / "gate.json"
    gate.write_text('{"pairs": {"mk-en": {"keep_names": false}, "en-es": '
                    '{"keep_names": true}}}', encoding="utf-8")
    assert names.gated_pairs(gate) == frozenset({("mk", "en")})
    assert names.gated_pairs(tmp_path / "absent.json") == frozenset()


@pytest.mark.skipif(not _have("mkd-eng"), reason="apertium-mkd-eng is missing")
def test_a_gated_pair_translates_as_without_names() -> None:
    """The bundled gate (benchmarks/names.py --write) turns protection off where it was
    measured to lower chrF; such a pair's output is the engine's without names."""
    pairs = names.gated_pairs()
    assert ("mk", "en") in pairs  # Cyrillic names kept would stay Cyrillic in English
    text = ["Доналд Трамп рече дека Мајк Пенс ќе дојде во понеделник."]
    gated, plain, forced = (ApertiumEngine(), ApertiumEngine(keep_names=False),
                            ApertiumEngine(names_gate=False))
    try:
        out = gated.translate(text, "mk", "en")[0].text
        assert out == plain.translate(text, "mk", "en")[0].text
        assert "Donald" in (out or "")
        assert "Доналд" in (forced.translate(text, "mk", "en")[0].text or "")
    finally:
        for eng in (gated, plain, forced):
            eng.close()


# (pair, names kept floor): the default engine's figure on the first GATE_LINES lines, less
# about 0.005 (measured: en-es 0.918, es-en 0.980, fr-es 0.984, pt-es 0.989; es-ca 0.943,
# eu-es 0.981 and mk-en 0.991 are gated, as without names)
PAIR_FLOORS: list[tuple[tuple[str, str], float]] = [
    (("en", "es"), 0.912), (("es", "en"), 0.975), (("fr", "es"), 0.978), (("pt", "es"), 0.984),
    (("es", "ca"), 0.938), (("eu", "es"), 0.976), (("mk", "en"), 0.986)]
CHRF_NOISE = 0.05  # as in test_quality_translation: pt-es is +0.01 on the dev documents
# and -0.02 on these 400 lines


@pytest.mark.skipif(not NTREX.exists(), reason="../shared/data/mt-ntrex128 is absent")
@pytest.mark.parametrize(("pair", "floor"), PAIR_FLOORS, ids=lambda p: "-".join(p)
                         if isinstance(p, tuple) else None)
def test_gate_chrf_never_below_the_engine_without_names(pair: tuple[str, str],
                                                        floor: float) -> None:
    """The engine as configured by default (names kept, the per-pair gate) against the same
    engine without names, on NTREX documents as batches: chrF never lower, names kept at
    least the pinned floor (the pairs the brief of issue 10 named, three of them gated)."""
    probe = ApertiumEngine()
    have = pair in probe.pairs()
    probe.close()
    if not have:
        pytest.skip(f"no Apertium pair {pair}")
    sources = ne.read(NTREX, ne.NTREX_LANGS[pair[0]][0], GATE_LINES)
    refs = [ne.read(NTREX, stem, GATE_LINES) for stem in ne.NTREX_LANGS[pair[1]]]
    docs = ne.documents(NTREX, GATE_LINES)
    scores = {}
    for keep in (False, True):
        eng = ApertiumEngine(keep_names=keep)
        try:
            out: list[str] = []
            for start, end in docs:
                for src, res in zip(sources[start:end],
                                    eng.translate(sources[start:end], *pair), strict=True):
                    assert res.ok, res.error
                    out.append(" ".join((res.text or src).splitlines()))
        finally:
            eng.close()
        scores[keep] = (ne.names_kept(sources, out, refs), ne.chrf(out, refs))
    (raw_names, raw_chrf), (kept, chrf) = scores[False], scores[True]
    print(f"{pair}: names kept {kept.share:.3f} (without {raw_names.share:.3f}), chrF "
          f"{chrf:.2f} (without {raw_chrf:.2f})")
    assert chrf >= raw_chrf - CHRF_NOISE, (chrf, raw_chrf)
    assert kept.share >= floor, kept.share
