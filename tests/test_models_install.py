"""`babelwire models install|list|remove` against an Argos package index on loopback.

A real HTTP server on 127.0.0.1 (tests/support/httpserver.py) serves an ``index.json`` in
the format of Argos Translate's own index (argospm-index: from_code, to_code,
package_version, argos_version, from_name, to_name, links, code) and ``.argosmodel``
packages built at test time by tests/support/tinymodel.py. Their weights are RANDOM: the
translations they produce are meaningless. These tests check the plumbing - which packages
are chosen, the download (resume, restart, checks, errors), the atomic install, and that a
context opened afterwards routes the pair through the argos engine - never quality.

The CLI runs in-process (`babelwire.cli.main`), with the settings taken from the
environment as an operator's would be.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")

from babelwire.catalog.loader import load_catalog
from babelwire.cli import main
from babelwire.config import Settings
from babelwire.translate import argos_index as ai
from babelwire.translate.models import list_models
from tests.support.httpserver import LoopbackServer, RecordedRequest, Reply
from tests.support.tinymodel import build_package

# (from, to, version): what the test index offers. Norwegian is "nb" in Argos packages and
# "no" in the catalogue; de→en is listed twice (the newest must win); pt→es, en→es, de→es
# are not needed by German readers.
OFFERED = [
    ("en", "de", "1.0"), ("de", "en", "0.9"), ("de", "en", "1.0"), ("es", "en", "1.0"),
    ("fr", "en", "1.9"), ("ru", "en", "1.9"), ("uk", "en", "1.4"), ("ja", "en", "1.1"),
    ("nb", "en", "1.9"), ("fr", "de", "1.0"), ("en", "es", "1.0"), ("pt", "es", "1.0"),
    ("de", "es", "1.0"),
]
FOR_GERMAN = {("en", "de"), ("de", "en"), ("es", "en"), ("fr", "en"), ("ru", "en"),
              ("uk", "en"), ("ja", "en"), ("nb", "en"), ("fr", "de")}
CUT_AT = 50_000  # bytes sent before the server drops a connection


def _filename(src: str, tgt: str, version: str) -> str:
    return f"translate-{src}_{tgt}-{version.replace('.', '_')}.argosmodel"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """File name -> bytes of every package the index offers (random weights)."""
    work = tmp_path_factory.mktemp("argos-packages")
    built = {}
    for i, (src, tgt, version) in enumerate(OFFERED):
        name = _filename(src, tgt, version)
        path = build_package(work / name, from_code=src, to_code=tgt, version=version,
                             seed=i + 1)
        built[name] = path.read_bytes()
    return built


@dataclass
class Mirror:
    """Serves the index and the packages; knobs decide how badly the server behaves."""

    packages: dict[str, bytes]
    cut_first: set[str] = field(default_factory=set)  # names whose first GET is cut short
    ignore_range: bool = False
    always_cut: int | None = None  # every GET sends at most this many bytes, then hangs up
    corrupt: set[str] = field(default_factory=set)  # names served with a flipped byte
    extra_fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> fields
    server: LoopbackServer = field(init=False)

    def __post_init__(self) -> None:
        self.server = LoopbackServer({"/argospm/index.json": self._index,
                                      "/v1/*": self._package}).start()

    def index_entries(self) -> list[dict[str, Any]]:
        names = {"en": "English", "de": "German", "es": "Spanish", "fr": "French",
                 "ru": "Russian", "uk": "Ukranian", "ja": "Japanese", "nb": "Norwegian",
                 "pt": "Portuguese"}
        entries: list[dict[str, Any]] = []
        for src, tgt, version in OFFERED:
            name = _filename(src, tgt, version)
            entries.append({
                "package_version": version, "argos_version": "1.9.0",
                "from_code": src, "from_name": names[src],
                "to_code": tgt, "to_name": names[tgt],
                "links": [self.server.url(f"/v1/{name}"), "ipfs://QmNotFetchedByBabelwire"],
                "code": f"translate-{src}_{tgt}",
                **self.extra_fields.get(name, {}),
            })
        # Argos also lists sentence-boundary packages and the odd entry with no usable link
        entries.append({"type": "sbd", "package_version": "1.0", "argos_version": "1.9",
                        "from_codes": ["en", "de"], "links": [self.server.url("/v1/sbd")],
                        "code": "sbd-stanza"})
        entries.append({"package_version": "1.0", "argos_version": "1.0", "from_code": "xh",
                        "to_code": "en", "links": ["ipfs://QmOnlyIpfs"]})
        return entries

    @property
    def index_url(self) -> str:
        return self.server.url("/argospm/index.json")

    def _index(self, request: RecordedRequest) -> Reply:
        return Reply(body=json.dumps(self.index_entries(), indent=4),
                     content_type="application/json")

    def _package(self, request: RecordedRequest) -> Reply:
        name = request.route_path.rsplit("/", 1)[-1]
        data = self.packages.get(name)
        if data is None:
            return Reply(404, b"no such package", content_type="text/plain")
        if name in self.corrupt:
            data = data[:-200] + bytes([data[-200] ^ 0xFF]) + data[-199:]
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        if request.method == "HEAD":
            return Reply(body=data, headers=headers, content_type="application/zip")
        if name in self.cut_first and not request.header("range"):
            self.cut_first.discard(name)
            # announce the whole length, send part of it, hang up
            return Reply(body=data[:CUT_AT], content_type="application/zip",
                         headers={**headers, "Content-Length": str(len(data)),
                                  "Connection": "close"})
        wanted = re.fullmatch(r"bytes=(\d+)-", request.header("range") or "")
        if_range = request.header("if-range")
        start, status = 0, 200
        if wanted and not self.ignore_range and if_range in (None, etag):
            start, status = int(wanted.group(1)), 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        if self.always_cut is not None:
            headers.update({"Content-Length": str(len(body)), "Connection": "close"})
            body = body[:self.always_cut]
        return Reply(status, body=body, headers=headers, content_type="application/zip")

    def package_requests(self) -> list[RecordedRequest]:
        return [r for r in self.server.requests() if r.route_path.startswith("/v1/")
                and r.method == "GET"]

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def mirror(packages: dict[str, bytes]) -> Iterator[Mirror]:
    m = Mirror(packages)
    yield m
    m.close()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Mirror) -> Path:
    """An operator's environment: a data directory and the loopback index."""
    import os

    for name in list(os.environ):
        if name.startswith("BABELWIRE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("BABELWIRE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BABELWIRE_ARGOS_INDEX_URL", mirror.index_url)
    monkeypatch.setenv("BABELWIRE_FETCH_CONNECT_TIMEOUT", "5")
    monkeypatch.setenv("BABELWIRE_FETCH_READ_TIMEOUT", "10")
    return tmp_path / "data" / "models"


def _installed(models_dir: Path) -> dict[tuple[str, str], str]:
    return {(m.from_code, m.to_code): m.version for m in list_models(models_dir)}


def _leftovers(models_dir: Path) -> list[str]:
    """Everything in models_dir that is not an installed package (staging, downloads)."""
    if not models_dir.exists():
        return []
    found = []
    for path in sorted(models_dir.rglob("*")):
        rel = path.relative_to(models_dir)
        if rel.parts[0].startswith("."):
            found.append(str(rel))
    return found


def test_install_for_german_readers_then_a_new_context_translates_with_argos(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "install", "--for", "de"]) == 0
    out, err = capsys.readouterr()

    # the catalogue's languages really are what the choice was made from
    catalogue = {lang for s in load_catalog().sources for lang in s.languages}
    assert {"es", "fr", "ru", "uk", "ja", "no"} <= catalogue
    assert set(_installed(env)) == FOR_GERMAN
    assert _installed(env)[("de", "en")] == "1.0"  # the newest of the two listed
    assert ("en", "es") not in _installed(env) and ("pt", "es") not in _installed(env)
    assert out.count("installed ") == len(FOR_GERMAN)
    assert f"{len(FOR_GERMAN)} installed, 0 up to date, 0 failed" in err
    # catalogue languages the index lacks are named (Greenlandic is in the catalogue)
    assert "not offered by the index" in err and "kl→en" in err
    assert not any("ipfs" in r.path or r.path.endswith("/sbd")
                   for r in mirror.server.requests())
    assert _leftovers(env) == []  # no download cache, no staging directory left

    # a second run downloads nothing
    before = len(mirror.package_requests())
    assert main(["models", "install", "--for", "de"]) == 0
    out, _ = capsys.readouterr()
    assert len(mirror.package_requests()) == before
    assert out.count("up to date: ") == len(FOR_GERMAN)

    # a context opened on the same data directory routes German through the argos engine
    from babelwire.context import Context

    ctx = Context.open(Settings.load())
    try:
        run = ctx.translator.translate(["Guten Morgen, Berlin."], "de", "en")
        assert run.route.engine_names == ["argos"] and run.route.path == ["de", "en"]
        assert run.results[0].text.strip()
        run = ctx.translator.translate(["The government announced new measures."], "en", "de")
        assert run.route.engine_names == ["argos"] and run.route.path == ["en", "de"]
        # a catalogue language with no direct package reaches German through English
        run = ctx.translator.translate(["El gobierno anunció nuevas medidas."], "es", "de")
        assert run.route.path == ["es", "en", "de"]
        assert run.route.hops[-1].engine.name == "argos"
    finally:
        ctx.close()


def test_for_takes_several_languages_and_commas(env: Path, mirror: Mirror,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "install", "--for", "de,es", "--dry-run"]) == 0
    out, _ = capsys.readouterr()
    rows = {line.split()[0] for line in out.splitlines()}
    # Spanish readers add en→es and the direct pt→es and de→es packages
    expected = FOR_GERMAN | {("en", "es"), ("pt", "es"), ("de", "es")}
    assert rows == {f"{a}→{b}" for a, b in expected}
    assert all(line.rstrip().endswith("to install") for line in out.splitlines())
    assert "kB" in out  # sizes, from HEAD requests (the index gives none)
    assert mirror.package_requests() == [] and not env.exists()  # a dry run downloads nothing
    assert main(["models", "install", "--for", "de", "--for", "es", "--dry-run"]) == 0
    assert capsys.readouterr().out == out


def test_without_for_the_configured_reader_languages_are_used(
        env: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BABELWIRE_READER_LANGUAGES", "de")
    assert main(["models", "install", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert {line.split()[0] for line in out.splitlines()} == {f"{a}→{b}"
                                                              for a, b in FOR_GERMAN}
    assert "for readers of de:" in err


def test_install_a_pair_list_available_and_remove(env: Path, mirror: Mirror,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "install", "de", "en"]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("installed de→en 1.0 in ")
    assert _installed(env) == {("de", "en"): "1.0"}

    assert main(["models", "list", "--available"]) == 0
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert set(rows) == {f"{a}→{b}" for a, b, _ in OFFERED}  # sbd and ipfs-only left out
    assert rows["de→en"].split()[1] == "1.0" and rows["de→en"].endswith("  installed")
    assert rows["en→de"].endswith("  -")
    size = mirror.packages[_filename("en", "de", "1.0")].__len__()
    assert ai.human_size(size) in rows["en→de"]
    assert "installed" in err and "1 installed" in err

    assert main(["models", "list"]) == 0
    assert capsys.readouterr().out.startswith("de→en  1.0  ")

    assert main(["models", "install", "en-de"]) == 0  # the older NAME form still works
    assert set(_installed(env)) == {("de", "en"), ("en", "de")}

    assert main(["models", "remove", "de", "en"]) == 0
    assert "removed 1" in capsys.readouterr().out
    assert set(_installed(env)) == {("en", "de")}
    assert main(["models", "remove", "de", "en"]) == 1


def test_a_pair_the_index_lacks_is_an_error(env: Path, mirror: Mirror,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "install", "ko", "de"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("babelwire: ") and "offers no ko→de package" in err
    assert err.count("\n") == 1
    with pytest.raises(SystemExit) as usage:
        main(["models", "install", "--for", "German"])
    assert usage.value.code == 2


def test_an_interrupted_download_is_resumed_with_a_range_request(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    name = _filename("en", "de", "1.0")
    mirror.cut_first.add(name)
    assert main(["models", "install", "en", "de"]) == 0
    gets = [r for r in mirror.package_requests() if r.route_path.endswith(name)]
    assert len(gets) == 2
    assert gets[0].header("range") is None
    assert gets[1].header("range") == f"bytes={CUT_AT}-"
    assert gets[1].header("if-range") is not None  # the ETag of the first response
    [model] = list_models(env)
    # the installed package is exactly the published one
    with __import__("zipfile").ZipFile(__import__("io").BytesIO(mirror.packages[name])) as zf:
        bin_member = next(n for n in zf.namelist() if n.endswith("model/model.bin"))
        assert (model.path / "model" / "model.bin").read_bytes() == zf.read(bin_member)
    assert _leftovers(env) == []


def test_a_partial_download_left_by_a_killed_run_is_resumed(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    name = _filename("es", "en", "1.0")
    data = mirror.packages[name]
    cache = env / ai.DOWNLOADS
    cache.mkdir(parents=True)
    (cache / f"{name}.part").write_bytes(data[:CUT_AT])
    assert main(["models", "install", "es", "en"]) == 0
    [get] = mirror.package_requests()
    assert get.header("range") == f"bytes={CUT_AT}-"
    # the served tail was exactly what was missing, and the result installed
    assert _installed(env) == {("es", "en"): "1.0"}
    assert _leftovers(env) == []


def test_a_download_cut_on_every_attempt_is_kept_and_resumed_by_the_next_run(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    name = _filename("uk", "en", "1.4")
    mirror.always_cut = 10_000
    assert main(["models", "install", "uk", "en"]) == 1
    err = capsys.readouterr().err
    assert "cannot download uk→en 1.4" in err and "kept and resumed next time" in err
    attempts = len(mirror.package_requests())
    assert attempts == ai.ATTEMPTS
    part = env / ai.DOWNLOADS / f"{name}.part"
    assert part.stat().st_size == attempts * 10_000
    assert list_models(env) == []

    mirror.always_cut = None  # the network is back
    assert main(["models", "install", "uk", "en"]) == 0
    last = mirror.package_requests()[-1]
    assert last.header("range") == f"bytes={attempts * 10_000}-"
    assert last.header("if-range") is not None
    assert _installed(env) == {("uk", "en"): "1.4"} and _leftovers(env) == []


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise(
        env: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    assert main(["models", "install", "ja", "en"]) == 0
    plain = capsys.readouterr().err
    assert "\r" not in plain and "\x1b" not in plain
    assert plain.startswith("downloading ja→en 1.1 (1/1) from http://127.0.0.1:")

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["models", "install", "en", "de"]) == 0
    shown = tty.getvalue()
    assert "\r\x1b[K" in shown
    assert re.search(r"en→de 1\.0 \[#{24}\] 100% \d+\.\d kB/\d+\.\d kB", shown)
    assert shown.endswith("\r\x1b[K")  # the bar is cleared when the download ends


def test_a_server_that_ignores_range_is_downloaded_again_from_the_start(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    name = _filename("fr", "en", "1.9")
    mirror.ignore_range = True
    mirror.cut_first.add(name)
    assert main(["models", "install", "fr", "en"]) == 0
    gets = mirror.package_requests()
    assert [g.header("range") for g in gets] == [None, f"bytes={CUT_AT}-"]
    # the second reply was the whole file (200): appending it would have corrupted it
    assert _installed(env) == {("fr", "en"): "1.9"}
    assert _leftovers(env) == []

    # the same from a stale partial file of a killed run
    name = _filename("ru", "en", "1.9")
    cache = env / ai.DOWNLOADS
    cache.mkdir(parents=True)
    (cache / f"{name}.part").write_bytes(b"garbage, not the start of the file" * 100)
    assert main(["models", "install", "ru", "en"]) == 0
    assert _installed(env)[("ru", "en")] == "1.9"
    assert _leftovers(env) == []


def test_a_checksum_mismatch_is_refused_and_nothing_is_left(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    # the public index has no checksums; a mirror's index may add sha256 and size
    name = _filename("en", "de", "1.0")
    mirror.extra_fields[name] = {"sha256": "0" * 64}
    assert main(["models", "install", "en", "de"]) == 1
    [error] = [line for line in capsys.readouterr().err.splitlines()
               if line.startswith("babelwire: ")]
    assert "en→de 1.0: checksum mismatch" in error
    assert list_models(env) == [] and _leftovers(env) == []

    right = hashlib.sha256(mirror.packages[name]).hexdigest()
    mirror.extra_fields[name] = {"sha256": right, "size": len(mirror.packages[name]) + 1}
    assert main(["models", "install", "en", "de"]) == 1
    assert "size mismatch" in capsys.readouterr().err
    assert list_models(env) == [] and _leftovers(env) == []

    mirror.extra_fields[name] = {"checksum": f"sha256:{right}"}
    assert main(["models", "install", "en", "de"]) == 0
    assert _installed(env) == {("en", "de"): "1.0"}


def test_a_corrupt_package_is_refused_and_nothing_is_left(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    name = _filename("de", "en", "1.0")
    mirror.corrupt.add(name)  # right length, one byte flipped, no checksum in the index
    assert main(["models", "install", "de", "en"]) == 1
    err = capsys.readouterr().err
    assert "corrupt" in err
    assert list_models(env) == [] and _leftovers(env) == []


def test_one_failed_package_does_not_stop_the_others(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    mirror.corrupt.add(_filename("ja", "en", "1.1"))
    assert main(["models", "install", "--for", "de"]) == 1
    err = capsys.readouterr().err
    assert f"{len(FOR_GERMAN) - 1} installed, 0 up to date, 1 failed" in err
    assert set(_installed(env)) == FOR_GERMAN - {("ja", "en")}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["refused", "unresolvable"])
@pytest.mark.parametrize("command", [["models", "install", "--for", "de"],
                                     ["models", "list", "--available"],
                                     ["models", "install", "en", "de"]])
def test_no_network_is_one_clear_line_and_exit_1(
        env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        kind: str, command: list[str]) -> None:
    url = (f"http://127.0.0.1:{_closed_port()}/index.json" if kind == "refused"
           else "http://argos-index.babelwire-test.invalid/index.json")
    monkeypatch.setenv("BABELWIRE_ARGOS_INDEX_URL", url)
    assert main(command) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"babelwire: cannot reach the Argos package index at {url}: ")
    assert err.count("\n") == 1
    assert ("connection refused" if kind == "refused" else "host name not resolved") in err
    assert list_models(env) == []


def test_an_index_that_is_not_an_index_is_an_error(
        env: Path, mirror: Mirror, capsys: pytest.CaptureFixture[str]) -> None:
    mirror.server.route("/argospm/index.json", Reply(body="<html>moved</html>"))
    assert main(["models", "install", "en", "de"]) == 1
    assert "is not an Argos package index" in capsys.readouterr().err
    mirror.server.route("/argospm/index.json", Reply(503, body="down"))
    assert main(["models", "list", "--available"]) == 1
    assert "answered HTTP 503" in capsys.readouterr().err


def test_plan_matches_codes_across_spellings() -> None:
    """The choice itself, without a server: Argos "nb" is the catalogue's "no", Argos
    "zt" is zh-Hant, and a reader of English needs no en→en."""
    def pkg(src: str, tgt: str, version: str = "1.0") -> ai.IndexPackage:
        return ai.IndexPackage(src, tgt, version, (f"http://x/{src}_{tgt}",))

    index = [pkg("nb", "en"), pkg("zt", "en"), pkg("en", "de"), pkg("de", "en"),
             pkg("de", "en", "1.10"), pkg("de", "en", "1.9")]
    plan = ai.plan_for_readers(index, ["en"], ["no", "zh-Hant", "de", "en", "kl"])
    assert sorted((p.from_code, p.to_code, p.version) for p in plan.packages) == [
        ("de", "en", "1.10"), ("nb", "en", "1.0"), ("zt", "en", "1.0")]
    assert plan.missing == (("kl", "en"),)
