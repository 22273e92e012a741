"""The Argos / CTranslate2 engine and the model installer, on a tiny model built here.

No real Argos model can be downloaded in this environment, so `tests.support.tinymodel`
builds one at test time: a SentencePiece tokeniser trained on a few dozen lines and a
one-layer CTranslate2 Transformer with RANDOM weights. Its output is MEANINGLESS. These
tests check the plumbing - package validation and install, tokenise -> translate_batch ->
detokenise, one result per segment, determinism, failure isolation, the optional-extra
guard - not translation quality.
"""

from __future__ import annotations

import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")

from babelwire.translate.argos import MAX_INPUT_TOKENS, ArgosEngine
from babelwire.translate.base import Engine, EngineError
from babelwire.translate.models import (
    InstalledModel,
    ModelInstallError,
    install_model,
    list_models,
    remove_model,
)
from tests.support.tinymodel import build_package

SEGMENTS = [
    "The government announced new measures on Tuesday.",
    "  Prices rose again in March.  ",
    "",
    "Zebra quartz xylophone!",
    "Hello world.",
]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_package(tmp_path_factory.mktemp("pkg") / "en_es.argosmodel")


@pytest.fixture
def models_dir(tmp_path: Path, package: Path) -> Path:
    directory = tmp_path / "models"
    install_model(package, directory)
    return directory


@pytest.fixture
def engine(models_dir: Path) -> Iterator[ArgosEngine]:
    eng = ArgosEngine(models_dir, beam_size=1, intra_threads=1)
    yield eng
    eng.close()


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith("."))


def test_install_extracts_the_package_under_pair_and_version(tmp_path: Path,
                                                              package: Path) -> None:
    models = tmp_path / "models"
    model = install_model(package, models)
    assert model == InstalledModel("en", "es", "0.1", models / "en_es-0.1")
    assert (model.path / "model" / "model.bin").is_file()
    assert (model.path / "sentencepiece.model").is_file()
    assert model.pair == ("en", "es")
    assert list_models(models) == [model]
    assert _leftovers(models) == []  # the staging directory is gone


def test_engine_translates_one_string_per_segment_deterministically(engine: ArgosEngine) -> None:
    assert isinstance(engine, Engine)
    assert engine.pairs() == frozenset({("en", "es")})
    first = engine.translate(SEGMENTS, "en", "es")
    assert len(first) == len(SEGMENTS)
    for segment, outcome in zip(SEGMENTS, first, strict=True):
        assert outcome.ok, outcome.error
        assert isinstance(outcome.text, str)
        if segment.strip():
            assert outcome.text.strip()  # never an empty string passed off as a translation
    assert first[2].text == ""  # empty in, empty out
    assert first[1].text is not None
    assert first[1].text.startswith("  ") and first[1].text.endswith("  ")  # spacing kept
    assert engine.translate(SEGMENTS, "en", "es") == first  # beam 1: same input, same output
    # batching does not change a segment's result
    assert engine.translate([SEGMENTS[3]], "en", "es") == [first[3]]


def test_engine_is_thread_safe(engine: ArgosEngine) -> None:
    expected = engine.translate(SEGMENTS, "en", "es")
    results: list[Any] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(engine.translate(SEGMENTS, "en", "es"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [expected] * 4


def test_health_and_version(engine: ArgosEngine, tmp_path: Path) -> None:
    health = engine.health()
    assert health.ok
    assert "en-es 0.1" in health.detail
    assert engine.version().startswith("ctranslate2 ")
    empty = ArgosEngine(tmp_path / "nothing-here")
    assert empty.pairs() == frozenset()
    assert not empty.health().ok
    assert "no Argos models" in empty.health().detail


def test_unknown_pair_fails_every_segment_without_raising(engine: ArgosEngine) -> None:
    out = engine.translate(["Hello.", "World."], "en", "fr")
    assert [o.ok for o in out] == [False, False]
    assert all("no model installed for en-fr" in (o.error or "") for o in out)


def test_too_long_segment_fails_alone(engine: ArgosEngine) -> None:
    long_segment = " ".join(["government measures"] * MAX_INPUT_TOKENS)
    out = engine.translate(["Hello world.", long_segment], "en", "es")
    assert out[0].ok
    assert not out[1].ok and "too long" in (out[1].error or "")


def test_runaway_decoding_is_a_failure_not_a_truncated_string(tmp_path: Path) -> None:
    # A model whose end-of-sentence token is never chosen: every output runs to the cap.
    looping = build_package(tmp_path / "loop.argosmodel", eos_bias=-1e4)
    models = tmp_path / "models"
    install_model(looping, models)
    eng = ArgosEngine(models, beam_size=1, intra_threads=1)
    out = eng.translate(["Hello world.", "Prices rose."], "en", "es")
    assert len(out) == 2
    assert all(not o.ok and o.text is None for o in out)
    assert all("runaway" in (o.error or "") for o in out)


def test_a_crashing_batch_is_split_to_isolate_the_bad_segment(engine: ArgosEngine) -> None:
    """Fault injection: the real translator, wrapped to raise on one marker token."""
    expected = engine.translate(["Hello world.", "Prices rose."], "en", "es")
    loaded = engine._load(engine._models()[("en", "es")])
    real = loaded.translator

    class Flaky:
        def translate_batch(self, batch: list[list[str]], **options: Any) -> Any:
            if any("Z" in "".join(tokens) for tokens in batch):
                raise RuntimeError("injected crash")
            return real.translate_batch(batch, **options)

    object.__setattr__(loaded, "translator", Flaky())
    try:
        out = engine.translate(["Hello world.", "Zebra!", "Prices rose."], "en", "es")
    finally:
        object.__setattr__(loaded, "translator", real)
    assert [o.ok for o in out] == [True, False, True]
    assert "injected crash" in (out[1].error or "")
    assert [out[0], out[2]] == expected


def test_newest_version_wins_and_remove_updates_pairs(tmp_path: Path, package: Path) -> None:
    models = tmp_path / "models"
    install_model(package, models)
    newer = install_model(build_package(tmp_path / "b.argosmodel", version="0.2", seed=11),
                          models)
    eng = ArgosEngine(models, beam_size=1, intra_threads=1)
    assert [m.version for m in list_models(models)] == ["0.1", "0.2"]
    assert "en-es 0.2" in eng.health().detail
    assert eng.translate(["Hello world."], "en", "es")[0].ok

    removed = remove_model(models, "en", "es", "0.2")
    assert removed == [newer]
    assert not newer.path.exists()
    assert "en-es 0.1" in eng.health().detail  # the engine notices the change
    assert remove_model(models, "en", "es") != []
    assert list_models(models) == []
    assert eng.pairs() == frozenset()
    assert eng.translate(["Hello."], "en", "es")[0].ok is False


def test_reinstalling_the_same_version_replaces_it(tmp_path: Path, package: Path) -> None:
    models = tmp_path / "models"
    first = install_model(package, models)
    stray = first.path / "stray.txt"
    stray.write_text("left from the old install")
    second = install_model(package, models)
    assert second.path == first.path
    assert not stray.exists()
    assert _leftovers(models) == []


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("members, message", [
    ({"pkg/model/model.bin": b"x", "pkg/sentencepiece.model": b"x"}, "no metadata.json"),
    ({"pkg/metadata.json": b'{"from_code": "en"}', "pkg/model/model.bin": b"x",
      "pkg/model/config.json": b"{}", "pkg/sentencepiece.model": b"x"}, "to_code"),
    ({"pkg/metadata.json": b'{"from_code": "en", "to_code": "../x"}',
      "pkg/model/model.bin": b"x"}, "to_code"),
    ({"pkg/metadata.json": b'{"from_code": "en", "to_code": "es"}',
      "pkg/sentencepiece.model": b"x"}, "model.bin"),
    ({"pkg/metadata.json": b"not json"}, "unreadable"),
])
def test_install_refuses_incomplete_packages(tmp_path: Path, members: dict[str, bytes],
                                             message: str) -> None:
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError, match=message):
        install_model(_zip(tmp_path / "bad.argosmodel", members), models)
    assert list(models.iterdir()) == []


def test_install_refuses_path_traversal(tmp_path: Path, package: Path) -> None:
    hostile = tmp_path / "hostile.argosmodel"
    hostile.write_bytes(package.read_bytes())
    with zipfile.ZipFile(hostile, "a") as zf:
        zf.writestr("translate-en_es-0_1/../../escaped.txt", b"gotcha")
    models = tmp_path / "deep" / "models"
    with pytest.raises(ModelInstallError, match="path traversal"):
        install_model(hostile, models)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "deep" / "escaped.txt").exists()
    assert list(models.iterdir()) == []


def test_install_refuses_absolute_paths_and_links(tmp_path: Path) -> None:
    absolute = _zip(tmp_path / "abs.argosmodel", {"/etc/evil": b"x"})
    with pytest.raises(ModelInstallError, match="absolute"):
        install_model(absolute, tmp_path / "models")
    link = tmp_path / "link.argosmodel"
    with zipfile.ZipFile(link, "w") as zf:
        info = zipfile.ZipInfo("pkg/model")
        info.external_attr = (0o120777 << 16)  # a symlink entry
        zf.writestr(info, "/etc")
    with pytest.raises(ModelInstallError, match="symbolic link"):
        install_model(link, tmp_path / "models")


def test_install_refuses_corrupt_archives(tmp_path: Path, package: Path) -> None:
    models = tmp_path / "models"
    garbage = tmp_path / "garbage.argosmodel"
    garbage.write_bytes(b"this is not a zip file at all" * 10)
    with pytest.raises(ModelInstallError, match="not a zip"):
        install_model(garbage, models)

    # Flip bytes inside the stored model.bin: the directory is intact, the data is not.
    data = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as zf:
        info = zf.getinfo("translate-en_es-0_1/model/model.bin")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 10, start + 40):
        data[i] ^= 0xFF
    damaged = tmp_path / "damaged.argosmodel"
    damaged.write_bytes(bytes(data))
    with pytest.raises(ModelInstallError, match="corrupt"):
        install_model(damaged, models)
    assert list_models(models) == []
    assert _leftovers(models) == []


def test_without_the_neural_extra(monkeypatch: pytest.MonkeyPatch, models_dir: Path) -> None:
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # makes `import` fail
    eng = ArgosEngine(models_dir)
    assert eng.pairs() == frozenset()
    health = eng.health()
    assert not health.ok
    assert "babelwire[neural]" in health.detail
    with pytest.raises(EngineError, match=r"babelwire\[neural\]"):
        eng.translate(["Hello."], "en", "es")
    # listing installed packages does not need the extra
    assert [m.pair for m in list_models(models_dir)] == [("en", "es")]
