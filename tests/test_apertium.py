"""The Apertium engine: real Debian pairs (en-es, en-ca, ru-uk, uk-ru), and fake modes whose
stages are small scripts that crash, hang or lose text on a marker word, to check that a
failure never loses text silently and costs only the segment that causes it."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from babelwire.translate import apertium_modes
from babelwire.translate.apertium import ApertiumEngine, available, decode, encode
from babelwire.translate.base import Engine, EngineError
from babelwire.translate.langcodes import ISO3_TO_1

MODES = Path("/usr/share/apertium/modes")
NTREX = Path(__file__).resolve().parents[2] / "shared" / "data" / "mt-ntrex128"

needs_apertium = pytest.mark.skipif(
    shutil.which("apertium") is None or not (MODES / "eng-spa.mode").exists(),
    reason="Apertium with apertium-eng-spa is not installed")
needs_rus_ukr = pytest.mark.skipif(not (MODES / "rus-ukr.mode").exists(),
                                   reason="apertium-rus-ukr is not installed")


def _children() -> set[int]:
    """Process ids of this process's children (all threads)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids.update(int(p) for p in (task / "children").read_text().split())
    return pids


def _gone(pids: list[int]) -> bool:
    """Every pid has exited and been reaped (not even a zombie)."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            continue
        return False
    return True


@pytest.fixture(scope="module")
def engine() -> Iterator[ApertiumEngine]:
    if shutil.which("apertium") is None or not (MODES / "eng-spa.mode").exists():
        pytest.skip("Apertium with apertium-eng-spa is not installed")
    eng = ApertiumEngine(timeout=60)
    yield eng
    eng.close()


# --- fake pipelines ----------------------------------------------------------------------

# A NUL-flushing stage: "translates" cat->gato, dog->perro; on a marker word it crashes
# (SIGSEGV), hangs, or drops the text of the record.
_STAGE = r'''
import os, re, signal, sys, time
out = sys.stdout.buffer
buf = b""
while True:
    data = os.read(0, 65536)
    if not data:
        break
    buf += data
    while b"\0" in buf:
        rec, buf = buf.split(b"\0", 1)
        if b"CRASHME" in rec:
            os.kill(os.getpid(), signal.SIGSEGV)
        if b"HANGME" in rec:
            time.sleep(3600)
        if b"EMPTYME" in rec:
            rec = b"".join(re.findall(rb"\[<bw:\d+>\]", rec))
        out.write(rec.replace(b"cat", b"gato").replace(b"dog", b"perro") + b"\0")
        out.flush()
out.write(buf)
out.flush()
'''

# A stage without null-flush: it answers only at end of input.
_BATCH_STAGE = r'''
import sys
data = sys.stdin.buffer.read()
if b"CRASHME" in data:
    sys.exit(3)
sys.stdout.buffer.write(data.replace(b"cat", b"gato"))
'''


def _fake_modes(tmp_path: Path, script: str, stages: int = 2) -> Path:
    modes = tmp_path / "modes"
    modes.mkdir()
    stage = tmp_path / "stage.py"
    stage.write_text(script, encoding="utf-8")
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(stage))}"
    (modes / "eng-spa.mode").write_text(" | ".join([cmd] * stages) + "\n", encoding="utf-8")
    (modes / "eng-cat_valencia.mode").write_text(cmd + "\n", encoding="utf-8")
    return modes


# --- real pairs --------------------------------------------------------------------------

@needs_apertium
def test_available_and_pairs(engine: ApertiumEngine) -> None:
    assert available()
    assert isinstance(engine, Engine)
    expected = {("en", "es"), ("es", "en"), ("en", "ca"), ("ca", "en"), ("fr", "es"),
                ("es", "fr"), ("es", "pt"), ("pt", "es"), ("ru", "uk"), ("uk", "ru")}
    assert expected <= engine.pairs()
    # BCP 47: two letters, or three for a language with no two-letter code (ast, frp, szl)
    codes = {lang for pair in engine.pairs() for lang in pair}
    assert all(len(c) == 2 or (len(c) == 3 and c not in ISO3_TO_1) for c in codes), codes
    assert engine.version().startswith("apertium 3.")
    assert "eng-spa" in engine.version()
    assert engine.health().ok


@needs_apertium
def test_english_to_spanish(engine: ApertiumEngine) -> None:
    out = engine.translate(["The cat", "The dog is in the house."], "en", "es")
    assert out[0].ok and "gato" in (out[0].text or "")
    assert out[1].ok and "perro" in (out[1].text or "") and "casa" in (out[1].text or "")


@needs_apertium
def test_batch_of_200_keeps_order(engine: ApertiumEngine) -> None:
    words = [("cat", "gato"), ("dog", "perro"), ("house", "casa"), ("book", "libro")]
    segments = [f"The {words[i % 4][0]} number {i}." for i in range(200)]
    out = engine.translate(segments, "en", "es")
    assert len(out) == 200
    for i, res in enumerate(out):
        assert res.ok, res.error
        assert words[i % 4][1] in (res.text or "").lower()
        assert str(i) in (res.text or "").split(" ")[-1]


@needs_apertium
def test_empty_and_blank_segments(engine: ApertiumEngine) -> None:
    out = engine.translate(["", "The dog", "   ", "", "\n"], "en", "es")
    assert [r.text for r in out[:1] + out[2:]] == ["", "   ", "", "\n"]
    assert "perro" in (out[1].text or "")
    assert engine.translate([], "en", "es") == []


@needs_apertium
@pytest.mark.parametrize("pair", [("en", "es"), ("en", "ca")])
def test_numbers_urls_emails_names_kept(engine: ApertiumEngine, pair: tuple[str, str]
                                        ) -> None:
    kept = ["3.14", "2026", "https://example.com/a?b=1", "john.doe@example.com", "Zelensky",
            "www.bbc.co.uk/news", "#hashtag"]
    text = ("Zelensky paid 3.14 euros in 2026 at https://example.com/a?b=1, wrote to "
            "john.doe@example.com and read www.bbc.co.uk/news about #hashtag.")
    out = engine.translate([text], *pair)[0]
    assert out.ok, out.error
    for item in kept:
        assert item in (out.text or ""), (item, out.text)


@needs_apertium
def test_no_unknown_word_marks(engine: ApertiumEngine) -> None:
    out = engine.translate(["The blorptastic zorbling sings."], "en", "es")[0]
    assert out.ok
    assert "blorptastic" in (out.text or "")
    assert not any(mark in (out.text or "") for mark in ("*", "#", "@"))


@needs_apertium
def test_lines_and_special_characters_survive(engine: ApertiumEngine) -> None:
    text = "The cat [sic] costs $5 ^ 2 \\ or {more}.\nThe dog <b> / 50%."
    out = engine.translate([text], "en", "es")[0].text or ""
    assert out.count("\n") == 1
    for piece in ("[sic]", "$5", "^", "\\", "{", "}", "<b>", "/", "50%"):
        assert piece in out, (piece, out)


@needs_apertium
def test_concurrent_callers(engine: ApertiumEngine) -> None:
    results: dict[int, list[str | None]] = {}

    def work(n: int) -> None:
        out = engine.translate([f"The dog number {n}{i}." for i in range(20)], "en", "es")
        results[n] = [r.text for r in out]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n, texts in results.items():
        assert [(t or "").rstrip(".").split()[-1] for t in texts] == \
            [f"{n}{i}" for i in range(20)]
    assert len(results) == 4


@needs_apertium
def test_unknown_pair_raises(engine: ApertiumEngine) -> None:
    with pytest.raises(EngineError):
        engine.translate(["x"], "en", "ja")


@needs_apertium
@needs_rus_ukr
def test_russian_ukrainian_both_ways(engine: ApertiumEngine) -> None:
    ru = ["Привет, как дела?", "Президент Украины заявил, что переговоры продолжатся в "
          "следующем месяце.", "Члены Ассамблеи Уэльса не хотят походить на маппетов."]
    uk = ["Привіт, як справи?", "Президент України заявив, що переговори продовжаться "
          "наступного місяця.", "Члени Асамблеї Уельсу не хочуть бути схожими на маппетів."]
    for segments, pair, marker in ((ru, ("ru", "uk"), set("іїєґ")),
                                   (uk, ("uk", "ru"), set("ыэъё"))):
        out = engine.translate(segments, *pair)
        for src, res in zip(segments, out, strict=True):
            assert res.ok, res.error
            assert res.text and res.text.strip() != src.strip()
        assert any(marker & set((r.text or "").lower()) for r in out), out


@needs_apertium
@needs_rus_ukr
def test_ntrex_russian_ukrainian_mostly_translated(engine: ApertiumEngine) -> None:
    if not NTREX.is_dir():
        pytest.skip("shared/data/mt-ntrex128 is absent")
    for lang, pair in (("rus", ("ru", "uk")), ("ukr", ("uk", "ru"))):
        text = (NTREX / f"newstest2019-ref.{lang}.txt").read_text(encoding="utf-8")
        lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()][:300]
        out = engine.translate(lines, *pair)
        translated = sum(1 for src, r in zip(lines, out, strict=True)
                         if r.ok and r.text and r.text.strip() != src.strip())
        assert translated / len(lines) > 0.9, (pair, translated)


# --- the repaired tagger model ------------------------------------------------------------

def test_shadowed_hmm_detected_and_reencoded() -> None:
    # An HMM model opens with lttoolbox integers: the open-class count (here 355, 2 bytes),
    # then one delta per tag. The perceptron loader reads 0x41 as "65-byte integer" and then
    # small counts: it accepts this as a (garbage) perceptron.
    body = bytes([0x41, 0x63]) + bytes([1]) * 355 + bytes(range(1, 200)) * 40
    assert apertium_modes.is_shadowed_hmm(body)
    fixed = apertium_modes.reencode_hmm(body)
    assert fixed is not None and fixed != body
    assert not apertium_modes.perceptron_accepts(fixed)
    assert len(fixed) - len(body) in (1, 2, 3, 6, 9)
    # A perceptron model (first byte: the size of a 64-bit integer) is left alone.
    assert not apertium_modes.is_shadowed_hmm(bytes([1, 4, 1, 0, 1, 0]) + body)


@needs_rus_ukr
def test_debian_rus_ukr_tagger_model_repaired(tmp_path: Path) -> None:
    mode = apertium_modes.discover(MODES)[("ru", "uk")]
    plan = apertium_modes.build_plan(mode, workdir=tmp_path)
    tagger = next(c for c in plan.commands if Path(c[0]).name == "apertium-tagger")
    assert tagger[-1].startswith(str(tmp_path)) and "-z" in tagger
    assert plan.notes
    original = Path("/usr/share/apertium/apertium-rus-ukr/rus-ukr.prob").read_bytes()
    assert apertium_modes.is_shadowed_hmm(original)
    assert not apertium_modes.perceptron_accepts(Path(tagger[-1]).read_bytes())


@needs_apertium
def test_healthy_models_untouched(tmp_path: Path) -> None:
    for pair in (("en", "es"), ("en", "ca")):
        mode = apertium_modes.discover(MODES)[pair]
        plan = apertium_modes.build_plan(mode, workdir=tmp_path)
        assert not plan.notes
        assert all("-z" in c for c in plan.commands)


# --- mode files and the stream format ----------------------------------------------------

def test_parse_pipeline_rejects_shell_tricks() -> None:
    cmds = apertium_modes.parse_pipeline("lt-proc -w 'a b.bin' | apertium-tagger -g $2 x.prob")
    assert cmds == [["lt-proc", "-w", "a b.bin"], ["apertium-tagger", "-g", "$2", "x.prob"]]
    for bad in ("lt-proc x; rm -rf y", "lt-proc $HOME/x", "lt-proc x > out", "a | | b"):
        with pytest.raises(apertium_modes.ModeError):
            apertium_modes.parse_pipeline(bad)


def test_mode_names() -> None:
    assert apertium_modes.parse_mode_name("eng-cat_valencia") == ("eng", "cat", "valencia")
    assert apertium_modes.parse_mode_name("es-pt_BR") == ("es", "pt", "BR")
    assert apertium_modes.parse_mode_name("eco-es-fr") is None


def test_encode_decode_round_trip() -> None:
    text = "a [b] \\ c^d$ e/f @g <h> {i} #j\n\tk  l https://x.org/p?q=1 m@n.org."
    record, kept = encode(text, 7)
    assert b"\0" not in record
    assert kept == ["https://x.org/p?q=1", "m@n.org"]
    assert decode(record, 7, kept) == text
    assert decode(record, 6, kept) is None  # not the record expected
    assert decode(record.replace(b"[<bwk:1>]", b""), 7, kept) is None  # protected text lost


# --- failures, with fake stages ------------------------------------------------------------

def test_crashing_stage_costs_only_its_segment(tmp_path: Path) -> None:
    eng = ApertiumEngine(modes_dir=_fake_modes(tmp_path, _STAGE), timeout=20)
    try:
        assert eng.pairs() == frozenset({("en", "es")})  # the variant mode is not a pair
        segments = ["the cat", "a dog", "boom CRASHME", "another cat", "", "last dog"]
        out = eng.translate(segments, "en", "es")
        assert [r.text for r in out] == ["the gato", "a perro", None, "another gato", "",
                                          "last perro"]
        assert out[2].error and "SIGSEGV" in out[2].error and "stage.py" in out[2].error
        before = set(eng.live_pids())
        assert eng.translate(["cat again"], "en", "es")[0].text == "gato again"
        assert set(eng.live_pids()) == before  # the restarted pipeline stays warm
    finally:
        eng.close()


def test_hanging_stage_times_out_and_restarts(tmp_path: Path) -> None:
    eng = ApertiumEngine(modes_dir=_fake_modes(tmp_path, _STAGE), timeout=1.0)
    try:
        out = eng.translate(["one cat", "HANGME now", "two dogs"], "en", "es")
        assert out[0].text == "one gato" and out[2].text == "two perros"
        assert out[1].text is None and out[1].error and "no output for 1 s" in out[1].error
        pids = eng.live_pids()
        assert pids and eng.translate(["a cat"], "en", "es")[0].text == "a gato"
        assert eng.live_pids() == pids
    finally:
        eng.close()


def test_empty_output_is_flagged(tmp_path: Path) -> None:
    eng = ApertiumEngine(modes_dir=_fake_modes(tmp_path, _STAGE), timeout=20)
    try:
        out = eng.translate(["a cat", "EMPTYME please", "a dog"], "en", "es")
        assert [r.text for r in out] == ["a gato", None, "a perro"]
        assert out[1].error and "empty output" in out[1].error
    finally:
        eng.close()


def test_many_crashes_in_one_batch(tmp_path: Path) -> None:
    eng = ApertiumEngine(modes_dir=_fake_modes(tmp_path, _STAGE), timeout=20)
    try:
        segments = [f"cat {i} CRASHME" if i % 7 == 3 else f"cat {i}" for i in range(30)]
        out = eng.translate(segments, "en", "es")
        for i, res in enumerate(out):
            if i % 7 == 3:
                assert res.text is None and res.error
            else:
                assert res.text == f"gato {i}"
    finally:
        eng.close()


def test_stage_without_null_flush_falls_back_to_batches(tmp_path: Path) -> None:
    eng = ApertiumEngine(modes_dir=_fake_modes(tmp_path, _BATCH_STAGE, stages=1), timeout=1.0)
    try:
        out = eng.translate(["a cat", "the cat CRASHME", "two cats", "dog"], "en", "es")
        assert [r.text for r in out] == ["a gato", None, "two gatos", "dog"]
        assert out[1].error
        assert eng.translate(["cat"] * 5, "en", "es")[4].text == "gato"
    finally:
        eng.close()


def test_close_leaves_no_processes(tmp_path: Path) -> None:
    before = _children()
    eng = ApertiumEngine(modes_dir=_fake_modes(tmp_path, _STAGE), timeout=20)
    eng.translate(["a cat", "boom CRASHME", "a dog"], "en", "es")
    pids = eng.live_pids()
    assert len(pids) == 2 and set(pids) <= _children()
    eng.close()
    assert eng.live_pids() == []
    assert _children() <= before
    assert _gone(pids)
    with pytest.raises(EngineError):
        eng.translate(["a cat"], "en", "es")


def test_no_modes_means_unhealthy(tmp_path: Path) -> None:
    eng = ApertiumEngine(modes_dir=tmp_path / "nowhere")
    assert eng.pairs() == frozenset()
    assert not eng.health().ok
    assert not available(modes_dir=tmp_path / "nowhere")
    eng.close()


# --- names: the analyser stage once, the rest of the pipeline after it ---------------------

# Stages after a real analyser: a unit's surface for its text, cat -> gato; a marker crashes.
_AFTER_ANALYSER = r'''
import os, re, signal, sys
out = sys.stdout.buffer
buf = b""
while True:
    data = os.read(0, 65536)
    if not data:
        break
    buf += data
    while b"\0" in buf:
        rec, buf = buf.split(b"\0", 1)
        if b"CRASHME" in rec:
            os.kill(os.getpid(), signal.SIGSEGV)
        rec = re.sub(rb"\^((?:[^\\/$]|\\.)*)(?:/(?:[^\\$]|\\.)*)?\$", lambda m: m.group(1), rec)
        out.write(rec.replace(b"cat", b"gato") + b"\0")
        out.flush()
out.write(buf)
out.flush()
'''
_AFTER_ANALYSER_BATCH = r'''
import re, sys
data = sys.stdin.buffer.read()
data = re.sub(rb"\^((?:[^\\/$]|\\.)*)(?:/(?:[^\\$]|\\.)*)?\$", lambda m: m.group(1), data)
sys.stdout.buffer.write(data.replace(b"cat", b"gato"))
'''


def _analyser_modes(tmp_path: Path, script: str) -> Path:
    modes = tmp_path / "modes"
    modes.mkdir()
    stage = tmp_path / "after.py"
    stage.write_text(script, encoding="utf-8")
    analyser = "/usr/share/apertium/apertium-eng-spa/eng-spa.automorf.bin"
    (modes / "eng-spa.mode").write_text(
        f"lt-proc '{analyser}' | {shlex.quote(sys.executable)} {shlex.quote(str(stage))}\n",
        encoding="utf-8")
    return modes


@needs_apertium
def test_names_need_no_second_analysis(tmp_path: Path) -> None:
    """With names kept, each segment goes through the analyser stage once: the names are
    replaced in its output, the rest of the pipeline reads that; the whole mode never runs."""
    eng = ApertiumEngine(modes_dir=_analyser_modes(tmp_path, _AFTER_ANALYSER), timeout=20)
    try:
        out = eng.translate(["Donald Trump saw the cat.", "The cat saw Trump.", "cat"],
                            "en", "es")
        assert [r.text for r in out] == ["Donald Trump saw the gato.",
                                          "The gato saw Trump.", "gato"]
        state = eng._res.states[("en", "es")]
        assert state.pipeline is None and state.analyser is not None and state.rest is not None
        assert state.lookup is not None  # this analyser stage lacks dictionary case (-w)
        assert state.dictionary_case["Trump"] and \
            state.dictionary_case["Trump"][0].startswith("trump")
        assert len(eng.live_pids()) == 3
    finally:
        eng.close()


@needs_apertium
def test_names_crash_after_the_analyser_costs_only_its_segment(tmp_path: Path) -> None:
    eng = ApertiumEngine(modes_dir=_analyser_modes(tmp_path, _AFTER_ANALYSER), timeout=20)
    try:
        segments = [f"Donald Trump saw cat {i} CRASHME" if i % 5 == 2
                    else f"Donald Trump saw cat {i}" for i in range(12)]
        segments += [f"the cat number {i} of Donald Trump" for i in range(300)]  # two parts
        out = eng.translate(segments, "en", "es")
        assert len(out) == len(segments)
        for i, res in enumerate(out):
            if i < 12 and i % 5 == 2:
                assert res.text is None and res.error and "SIGSEGV" in res.error
            elif i < 12:
                assert res.text == f"Donald Trump saw gato {i}", res
            else:
                assert res.text == f"the gato number {i - 12} of Donald Trump", res
        assert eng._res.states[("en", "es")].pipeline is None
    finally:
        eng.close()


@needs_apertium
def test_names_rest_without_null_flush_translates_whole(tmp_path: Path) -> None:
    """Stages after the analyser that answer only at end of input: the pair is translated
    by one whole-mode run per batch instead, every line kept."""
    eng = ApertiumEngine(modes_dir=_analyser_modes(tmp_path, _AFTER_ANALYSER_BATCH),
                         timeout=1.0)
    try:
        out = eng.translate(["the cat", "two cats", "a dog"], "en", "es")
        assert [r.text for r in out] == ["the gato", "two gatos", "a dog"]
        assert eng._res.states[("en", "es")].no_split
        assert eng.translate(["cat"], "en", "es")[0].text == "gato"
    finally:
        eng.close()


# --- bounds on running processes -----------------------------------------------------------

@needs_apertium
def test_idle_pairs_processes_are_closed_and_restart_on_demand() -> None:
    """A pair without work for `idle_seconds` has its processes closed by the reaper thread
    (a soak warmed ~25 pairs: 5 GB of Apertium processes); the next batch starts them again
    and translates as before."""
    eng = ApertiumEngine(timeout=60, idle_seconds=0.5)
    try:
        first = eng.translate(["The house is red."], "en", "es")[0].text
        pids = eng.live_pids()
        assert pids and first
        deadline = time.monotonic() + 20
        while eng.live_pids() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert eng.live_pids() == []
        assert _gone(pids)
        assert eng.translate(["The house is red."], "en", "es")[0].text == first
        assert eng.live_pids()
    finally:
        eng.close()


@needs_apertium
def test_beyond_max_warm_pairs_the_least_recently_used_is_closed() -> None:
    eng = ApertiumEngine(timeout=60, max_warm_pairs=1)
    try:
        es = eng.translate(["The house is red."], "en", "es")[0].text
        en_es = eng.live_pids()
        en = eng.translate(["La casa es roja."], "es", "en")[0].text
        es_en = eng.live_pids()
        assert es and en and en_es and es_en
        assert not set(en_es) & set(es_en)  # only the pair used last is running
        assert _gone(en_es)
        assert eng.translate(["The house is red."], "en", "es")[0].text == es
        assert not set(es_en) & set(eng.live_pids()) and _gone(es_en)
    finally:
        eng.close()


@needs_apertium
def test_reaper_leaves_a_pair_in_the_middle_of_a_batch_alone() -> None:
    eng = ApertiumEngine(timeout=60, idle_seconds=3600)
    try:
        eng.translate(["The house is red."], "en", "es")
        state = eng._res.states[("en", "es")]
        with state.lock:  # as translate() holds it during a batch
            assert eng._res.reap(now=time.monotonic() + 7200) == []
            assert eng.live_pids()
        assert eng._res.reap(now=time.monotonic() + 7200) == ["eng-spa"]
        assert eng.live_pids() == []
    finally:
        eng.close()
