"""Router, translator and translation memory logic.

The engines here are small stand-ins defined in this file (they tag text instead of
translating it), because these tests are about routing, memory and failure handling for any
engine; the real engines have their own tests (test_apertium.py, test_engine_*.py) and the
whole path with real Apertium is tested in test_translate_articles.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from babelwire.store.database import Database
from babelwire.translate.base import Engine, EngineError, Health, Translated
from babelwire.translate.memory import TranslationMemory
from babelwire.translate.quality import PIVOT_LOSS, Measured, QualityTable, estimate, load_table
from babelwire.translate.router import Router, parse_preferences
from babelwire.translate.segment import join, split_sentences
from babelwire.translate.translator import NoRoute, Translator


class TagEngine:
    """Stand-in engine: 'text' -> '[name:src>tgt text]'; fails on segments containing
    `fail_on`, counts calls."""

    def __init__(self, name: str, pairs: set[tuple[str, str]], quality: int = 10,
                 fail_on: str | None = None, broken: bool = False) -> None:
        self.name, self.quality, self._pairs = name, quality, frozenset(pairs)
        self.fail_on, self.broken = fail_on, broken
        self.calls: list[list[str]] = []

    def pairs(self) -> frozenset[tuple[str, str]]:
        return self._pairs

    def version(self) -> str:
        return "1.0"

    def health(self) -> Health:
        return Health(not self.broken)

    def translate(self, segments: Sequence[str], source: str, target: str) -> list[Translated]:
        if self.broken:
            raise EngineError("engine is down")
        self.calls.append(list(segments))
        return [Translated(None, "crashed on this one") if self.fail_on and self.fail_on in s
                else Translated(f"[{self.name}:{source}>{target} {s}]") for s in segments]

    def close(self) -> None:
        pass


def test_stand_in_satisfies_the_protocol() -> None:
    assert isinstance(TagEngine("x", set()), Engine)


def test_split_and_join_keep_every_character() -> None:
    for text in ["Mr. Smith arrived. He said: “Hello!” Then he left…  Next para.",
                 "Одно. Два! Три?", "¿Qué? ¡Nada! Vale.", "", "No end punctuation",
                 "Version 3.14 of v2.0 shipped. See https://example.com/a.b?c=1. Done."]:
        pieces = split_sentences(text)
        assert join(pieces, [p.text for p in pieces]) == text
    assert len(split_sentences("Mr. Smith arrived. He left.")) == 2
    assert len(split_sentences("It costs 3.5 million. Really.")) == 2


def _router(engines: Sequence[Engine], *, table: QualityTable | None = None,
            min_quality: float = 0.0, **kwargs: Any) -> Router:
    """A router over stand-in engines: no bundled table (these engines are not Apertium),
    every route offered unless a test sets the floor."""
    return Router(engines, table=table or QualityTable(), min_quality=min_quality, **kwargs)


def _table(rows: dict[tuple[str, str, str], float]) -> QualityTable:
    return QualityTable({key: Measured(chrf) for key, chrf in rows.items()})


def test_router_prefers_direct_then_shortest_pivot_at_equal_quality() -> None:
    apertium = TagEngine("apertium", {("fr", "es"), ("es", "en"), ("es", "ca"), ("pt", "es"),
                                      ("fr", "en")})
    router = _router([apertium])
    assert router.route("fr", "en").path == ["fr", "en"]  # type: ignore[union-attr]
    assert router.route("pt", "ca").path == ["pt", "es", "ca"]  # type: ignore[union-attr]
    assert router.route("pt", "en").path == ["pt", "es", "en"]  # type: ignore[union-attr]
    assert router.route("en", "fr") is None


def test_a_two_hop_route_through_strong_pairs_beats_a_weak_direct_pair() -> None:
    engine = TagEngine("apertium", {("sv", "en"), ("sv", "da"), ("da", "en")})
    table = _table({("apertium", "sv", "en"): 31.0, ("apertium", "sv", "da"): 80.0,
                    ("apertium", "da", "en"): 62.0})
    route = _router([engine], table=table).route("sv", "en")
    assert route is not None and route.path == ["sv", "da", "en"]
    assert route.quality == pytest.approx(62.0 - PIVOT_LOSS * (100 - 80.0))
    assert not route.measured
    # the estimate never exceeds the weakest hop, and each further hop costs something
    assert estimate([62.0, 80.0]) < 62.0 and estimate([70.0]) == 70.0


def test_a_useless_route_is_not_offered() -> None:
    engine = TagEngine("apertium", {("is", "sv"), ("sv", "da"), ("da", "nb")})
    table = _table({("apertium", "is", "sv"): 35.0, ("apertium", "sv", "da"): 40.0,
                    ("apertium", "da", "nb"): 38.0})
    router = _router([engine], table=table, min_quality=30.0)
    assert router.route("is", "sv") is not None
    assert router.route("is", "nb") is None  # 35 - 0.05*(60+62) < 30
    assert router.route("is", "nb", min_quality=0) is not None  # still listed on request
    assert not Translator(router).has_route("is", "nb")
    with pytest.raises(NoRoute):
        Translator(router).translate(["Halló."], "is", "nb")


def test_a_route_measured_end_to_end_is_ranked_by_its_measurement() -> None:
    engine = TagEngine("apertium", {("sv", "is"), ("is", "en"), ("sv", "da"), ("da", "en")})
    rows = {("apertium", "sv", "is"): 35.0, ("apertium", "is", "en"): 39.0,
            ("apertium", "sv", "da"): 50.0, ("apertium", "da", "en"): 40.0}
    table = _table(rows)
    assert _router([engine], table=table).route("sv", "en").path == ["sv", "da", "en"]  # type: ignore[union-attr]
    table.routes[("apertium", "sv>is>en")] = Measured(44.0, 300)
    route = _router([engine], table=table).route("sv", "en")
    assert route is not None and route.path == ["sv", "is", "en"]
    assert route.quality == 44.0 and route.measured


def test_language_aliases_reach_the_same_pairs() -> None:
    engine = TagEngine("apertium", {("nb", "da")})
    router = _router([engine])
    assert router.route("no", "da").path == ["nb", "da"]  # type: ignore[union-attr]
    assert Translator(router).has_route("NO", "da")


def test_new_pairs_of_an_engine_are_routed_at_once() -> None:
    engine = TagEngine("argos", {("de", "en")})
    router = _router([engine])
    assert router.route("en", "de") is None
    engine._pairs = frozenset({("de", "en"), ("en", "de")})  # a model was installed
    assert router.route("en", "de").path == ["en", "de"]  # type: ignore[union-attr]


def test_router_ranks_engines_by_measured_quality_and_honours_preferences() -> None:
    rule = TagEngine("apertium", {("en", "es")}, quality=10)
    neural = TagEngine("argos", {("en", "es")}, quality=20)
    # unmeasured: the neural prior (55) is above Apertium's (40)
    assert _router([rule, neural]).route("en", "es").hops[0].engine is neural  # type: ignore[union-attr]
    # measured: Apertium's 60 beats the neural model's 50
    table = _table({("apertium", "en", "es"): 60.0, ("argos", "en", "es"): 50.0})
    assert _router([rule, neural], table=table).route("en", "es").hops[0].engine is rule  # type: ignore[union-attr]
    table = _table({("apertium", "en", "es"): 60.0, ("argos", "en", "es"): 70.0})
    assert _router([rule, neural], table=table).route("en", "es").hops[0].engine is neural  # type: ignore[union-attr]
    prefs = parse_preferences(["en-es=apertium"])
    assert _router([rule, neural], preferences=prefs).route(
        "en", "es").hops[0].engine is rule  # type: ignore[union-attr]
    assert _router([rule, neural]).route("en", "es", engine="apertium").hops[0].engine is rule  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="fr-en=argos"):
        parse_preferences(["nonsense"])


def test_the_bundled_table_is_readable_and_covers_the_debian_pairs() -> None:
    table = load_table()
    assert table.is_measured("apertium", "en", "es")
    assert table.hop("apertium", "en", "es") > 40
    assert table.is_measured("apy", "en", "es")  # APy runs the same Apertium data
    assert not table.is_measured("argos", "en", "es")


def test_an_operator_table_overrides_the_bundled_one(tmp_path: Path) -> None:
    local = tmp_path / "quality.json"
    local.write_text('{"engines": {"argos": {"pairs": {"en-de": {"chrf": 61.5}}},'
                     ' "apertium": {"pairs": {"en-es": {"chrf": 12.0}}}}}', encoding="utf-8")
    table = load_table(local)
    assert table.hop("argos", "en", "de") == 61.5
    assert table.hop("apertium", "en", "es") == 12.0
    local.write_text("{not json", encoding="utf-8")
    assert load_table(local).hop("apertium", "en", "es") > 40  # a broken file is ignored


def test_translator_flags_only_the_failing_sentence(tmp_path: Path) -> None:
    engine = TagEngine("apertium", {("en", "es")}, fail_on="BOOM")
    tr = Translator(_router([engine]))
    run = tr.translate(["One fine day. Then BOOM happened. The end.", "", "Plain."], "en", "es")
    first, empty, plain = run.results
    assert first.flagged and first.flagged_sentences == 1
    assert "Then BOOM happened." in first.text  # kept in the original, not dropped
    assert "[apertium:en>es One fine day.]" in first.text
    assert "[apertium:en>es The end.]" in first.text
    assert "crashed on this one" in first.errors[0]
    assert empty.text == "" and not empty.flagged
    assert plain.text == "[apertium:en>es Plain.]" and not plain.flagged


def test_translator_falls_back_to_another_engine_before_flagging() -> None:
    flaky = TagEngine("argos", {("en", "es")}, quality=20, fail_on="BOOM")
    steady = TagEngine("apertium", {("en", "es")}, quality=10)
    run = Translator(_router([flaky, steady])).translate(["Fine. BOOM here."], "en", "es")
    [res] = run.results
    assert not res.flagged
    assert "[argos:en>es Fine.]" in res.text and "[apertium:en>es BOOM here.]" in res.text
    assert steady.calls == [["BOOM here."]]  # only what the better engine failed


def test_pivot_translation_and_engine_down() -> None:
    engine = TagEngine("apertium", {("fr", "es"), ("es", "en")})
    run = Translator(_router([engine])).translate(["Bonjour."], "fr", "en")
    assert run.results[0].text == "[apertium:es>en [apertium:fr>es Bonjour.]]"
    assert run.route.path == ["fr", "es", "en"]
    down = TagEngine("apertium", {("en", "es")}, broken=True)
    res = Translator(_router([down])).translate(["Hello there."], "en", "es").results[0]
    assert res.flagged and res.text == "Hello there." and "engine is down" in res.errors[0]


def test_no_route_lists_the_routes_that_exist() -> None:
    tr = Translator(_router([TagEngine("apertium", {("en", "es")})]))
    with pytest.raises(NoRoute) as exc:
        tr.translate(["x"], "ja", "en")
    assert "en→es" in str(exc.value)


def test_memory_translates_repeated_sentences_once(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'tm.db'}")
    engine = TagEngine("apertium", {("en", "es")})
    memory = TranslationMemory(db)
    tr = Translator(_router([engine]), memory)
    texts = ["Same sentence. Other one.", "Same sentence."]
    first = tr.translate(texts, "en", "es")
    assert engine.calls == [["Same sentence.", "Other one."]]  # deduplicated in the batch
    second = tr.translate(texts, "en", "es")
    assert len(engine.calls) == 1  # nothing sent to the engine again
    assert [r.text for r in second.results] == [r.text for r in first.results]
    assert second.memory_hits == 2 and memory.hit_rate == pytest.approx(0.5)
    # a new engine version does not reuse the old one's output
    engine.version = lambda: "2.0"  # type: ignore[method-assign]
    tr.translate(texts, "en", "es")
    assert len(engine.calls) == 2
    db.dispose()
