"""Quality gate for translation (CI): on NTREX-128, Babelwire's translator beside the raw
`apertium` command on the same lines. Floors: chrF at least raw Apertium's on every direct
pair; no lost line on any pair; more than 90% of ru↔uk lines really translated; the
translation memory answers >= 99% of a second run. Skips without ../shared/data.

The full benchmark with throughput is benchmarks/translate.py; this gate uses the first
LINES lines of each pair to stay quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from babelwire.store.database import Database
from babelwire.translate import apertium
from babelwire.translate.memory import TranslationMemory
from babelwire.translate.router import Router
from babelwire.translate.translator import Translator
from tests.support import mt_eval
from tests.support.factories import shared_data

pytestmark = [pytest.mark.shared_data,
              pytest.mark.skipif(not apertium.available(), reason="Apertium is not installed")]
LINES = 400


@pytest.fixture(scope="module")
def engine() -> Iterator[apertium.ApertiumEngine]:
    eng = apertium.ApertiumEngine()
    yield eng
    eng.close()


@pytest.mark.parametrize("pair", mt_eval.DIRECT_PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
def test_direct_pair_at_least_raw_apertium(pair: tuple[str, str],
                                           engine: apertium.ApertiumEngine) -> None:
    ntrex = shared_data("mt-ntrex128")
    sources = mt_eval.read_lines(ntrex, pair[0], LINES)
    refs = mt_eval.read_lines(ntrex, pair[1], LINES)
    raw_out, raw_secs = mt_eval.run_raw(pair, sources)
    raw = mt_eval.score(pair, "raw apertium", sources, raw_out, refs, raw_secs)
    out, secs, flagged, _path = mt_eval.run_babelwire(Translator(Router([engine])), pair,
                                                      sources)
    ours = mt_eval.score(pair, "babelwire", sources, out, refs, secs, flagged=flagged)
    print(f"{pair}: chrF {ours.chrf:.1f} (raw {raw.chrf:.1f}), lost {ours.lost} "
          f"(raw {raw.lost}), translated {ours.translated_share:.1%}")
    assert ours.lost == 0
    assert ours.chrf >= raw.chrf - 0.05  # sacrebleu rounding; never worse than the anchor
    if pair in (("ru", "uk"), ("uk", "ru")):
        assert ours.translated_share > 0.90


@pytest.mark.parametrize("pair", mt_eval.PIVOT_PAIRS, ids=lambda p: f"{p[0]}-{p[1]}")
def test_pivot_pair_loses_nothing(pair: tuple[str, str],
                                  engine: apertium.ApertiumEngine) -> None:
    ntrex = shared_data("mt-ntrex128")
    sources = mt_eval.read_lines(ntrex, pair[0], LINES)
    refs = mt_eval.read_lines(ntrex, pair[1], LINES)
    out, secs, flagged, path = mt_eval.run_babelwire(Translator(Router([engine])), pair,
                                                     sources)
    ours = mt_eval.score(pair, "babelwire", sources, out, refs, secs, flagged=flagged)
    print(f"{pair} via {path}: chrF {ours.chrf:.1f}, lost {ours.lost}")
    assert len(path.split("→")) >= 3  # through at least one pivot language
    assert ours.lost == 0
    assert ours.chrf > 30  # a real translation, not the source text echoed


def test_memory_answers_a_second_run(tmp_path: Path, engine: apertium.ApertiumEngine) -> None:
    ntrex = shared_data("mt-ntrex128")
    db = Database(f"sqlite:///{tmp_path / 'tm.db'}")
    memory = TranslationMemory(db)
    translator = Translator(Router([engine]), memory)
    sources = mt_eval.read_lines(ntrex, "en", LINES)
    first = translator.translate(sources, "en", "es")
    memory.hits = memory.misses = 0
    second = translator.translate(sources, "en", "es")
    assert [r.text for r in second.results] == [r.text for r in first.results]
    assert memory.hit_rate >= 0.99
    db.dispose()
