"""LibreTranslateEngine against a stand-in server: a contract test.

A real LibreTranslate server cannot run here (its Argos models cannot be downloaded), so
`tests.support.fake_libretranslate` stands in for it, implementing LibreTranslate's
documented HTTP API (``GET /languages``, ``POST /translate`` with a string or list ``q``,
``api_key``, ``{"error": ...}`` replies with 400/403/429/500) with a trivial deterministic
"translation". These tests check that the engine speaks that API correctly and handles its
failure modes; they say nothing about translation quality.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from babelwire.translate.base import Engine, EngineError, Translated
from babelwire.translate.libretranslate import LibreTranslateEngine
from tests.support.fake_libretranslate import FakeLibreTranslate, fake_translate

KEY = "s3cret"


@pytest.fixture
def server() -> Iterator[FakeLibreTranslate]:
    with FakeLibreTranslate(api_keys={KEY}) as srv:
        yield srv


@pytest.fixture
def engine(server: FakeLibreTranslate) -> Iterator[LibreTranslateEngine]:
    eng = LibreTranslateEngine(server.url, api_key=KEY, timeout=5.0, backoff=0.01)
    yield eng
    eng.close()


def test_languages_become_bcp47_pairs(engine: LibreTranslateEngine) -> None:
    assert isinstance(engine, Engine)
    assert engine.pairs() == frozenset({("en", "es"), ("en", "fr"), ("en", "zh-Hant"),
                                        ("es", "en"), ("fr", "en"), ("zh-Hant", "en")})
    health = engine.health()
    assert health.ok and "6 pairs" in health.detail
    assert "1.6.0-fake" in engine.version()


def test_batch_translation_is_one_request_with_list_q(engine: LibreTranslateEngine,
                                                      server: FakeLibreTranslate) -> None:
    segments = ["Hello world.", "  The cat is good.\n", "", "Breaking news today"]
    out = engine.translate(segments, "en", "es")
    assert out == [
        Translated("Hola mundo."),
        Translated("  El gato es bueno.\n"),  # surrounding whitespace kept
        Translated(""),  # empty in, empty out, not sent
        Translated("gnikaerB noticias hoy"),
    ]
    [request] = server.translate_requests()
    assert request.data["q"] == ["Hello world.", "The cat is good.", "Breaking news today"]
    assert request.data["source"] == "en" and request.data["target"] == "es"
    assert request.data["format"] == "text"
    assert request.data["api_key"] == KEY


def test_server_codes_are_used_on_the_wire(engine: LibreTranslateEngine,
                                           server: FakeLibreTranslate) -> None:
    [outcome] = engine.translate(["Hello"], "zh-Hant", "en")
    assert outcome == Translated(fake_translate("Hello", "zt", "en"))
    assert server.translate_requests()[0].data["source"] == "zt"
    assert server.translate_requests()[0].data["q"] == "Hello"  # one segment: plain string


def test_batches_are_split_by_size(server: FakeLibreTranslate) -> None:
    eng = LibreTranslateEngine(server.url, api_key=KEY, max_batch_segments=2)
    out = eng.translate([f"cat {i}" for i in range(5)], "en", "es")
    eng.close()
    assert [o.text for o in out] == [f"gato {i}" for i in range(5)]
    assert [len(r.data["q"]) if isinstance(r.data["q"], list) else 1
            for r in server.translate_requests()] == [2, 2, 1]


def test_a_failing_segment_is_isolated(engine: LibreTranslateEngine,
                                       server: FakeLibreTranslate) -> None:
    out = engine.translate(["Hello", "this will FAIL! now", "world", "EMPTY! please"],
                           "en", "es")
    assert [o.ok for o in out] == [True, False, True, False]
    assert out[0].text == "Hola" and out[2].text == "mundo"
    assert out[1].text is None and "forced failure" in (out[1].error or "")
    assert out[3].text is None and "empty output" in (out[3].error or "")
    # the batch failed as a whole, then each segment went alone
    assert len(server.translate_requests()) == 1 + 4


def test_wrong_or_missing_api_key_makes_the_engine_unusable(
        server: FakeLibreTranslate) -> None:
    wrong = LibreTranslateEngine(server.url, api_key="nope")
    with pytest.raises(EngineError, match="Invalid API key"):
        wrong.translate(["Hello"], "en", "es")
    missing = LibreTranslateEngine(server.url)
    with pytest.raises(EngineError, match="API key"):
        missing.translate(["Hello"], "en", "es")
    wrong.close()
    missing.close()
    sent = [r.data.get("api_key") for r in server.translate_requests()]
    assert sent == ["nope", None]


def test_rate_limit_is_waited_out_once(engine: LibreTranslateEngine,
                                       server: FakeLibreTranslate) -> None:
    server.rate_limit(1, retry_after="0")
    assert engine.translate(["Hello", "world"], "en", "es") == [Translated("Hola"),
                                                                 Translated("mundo")]
    assert len(server.translate_requests()) == 2


def test_persistent_rate_limit_fails_the_batch(engine: LibreTranslateEngine,
                                               server: FakeLibreTranslate) -> None:
    server.rate_limit(2)
    out = engine.translate(["Hello", "world"], "en", "es")
    assert [o.ok for o in out] == [False, False]
    assert all("429" in (o.error or "") for o in out)
    assert len(server.translate_requests()) == 2  # no per-segment storm after a 429
    assert engine.translate(["Hello"], "en", "es") == [Translated("Hola")]  # limit lifted


def test_unsupported_pair_fails_segments(engine: LibreTranslateEngine) -> None:
    out = engine.translate(["Hello", "world"], "es", "fr")
    assert [o.ok for o in out] == [False, False]
    assert "not offered" in (out[0].error or "")


def test_char_limit_rejection_falls_back_to_single_segments() -> None:
    with FakeLibreTranslate(char_limit=12) as srv:
        eng = LibreTranslateEngine(srv.url)
        out = eng.translate(["Hello world", "cat", "a very long segment indeed"], "en", "es")
        eng.close()
    assert out[0] == Translated("Hola mundo") and out[1] == Translated("gato")
    assert not out[2].ok and "exceeds text limit" in (out[2].error or "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_down() -> None:
    eng = LibreTranslateEngine(f"http://127.0.0.1:{_free_port()}", timeout=2.0)
    assert eng.pairs() == frozenset()
    health = eng.health()
    assert not health.ok and "unreachable" in health.detail
    with pytest.raises(EngineError, match="unreachable"):
        eng.translate(["Hello"], "en", "es")
    assert "unknown" in eng.version()
    eng.close()
