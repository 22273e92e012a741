"""ApyEngine against a REAL Apertium-APy server (Debian's apertium-apy) on 127.0.0.1.

APy's own command line has no bind-address option (it listens on every interface), so the
fixture starts it through a few lines that reuse APy's argument parsing and application
setup but bind the socket to 127.0.0.1 only. It runs under the system python, which has
APy's dependencies (tornado), not under our virtualenv. The tests skip cleanly when
apertium-apy or the English-Spanish pair is not installed.

Failure handling that a healthy APy never shows (empty output, a stuck pipeline) is tested
against canned APy replies on a loopback server.

Server down: `pairs()` is empty, `health()` is not ok and `translate` raises `EngineError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from babelwire.translate.apy import ApyEngine, apertium_code_to_bcp47
from babelwire.translate.base import Engine, EngineError, Translated
from tests.support.httpserver import LoopbackServer, RecordedRequest, Reply

SYSTEM_PYTHON = "/usr/bin/python3"
MODES = Path("/usr/share/apertium/modes")

# Start APy bound to 127.0.0.1 on a free port chosen by the OS; print the port.
LAUNCHER = """
import sys
import tornado.httpserver, tornado.ioloop, tornado.netutil
from apertium_apy import apy
args = apy.parse_args(sys.argv[1:])
app = apy.setup_application(args)
sockets = tornado.netutil.bind_sockets(0, address="127.0.0.1")
server = tornado.httpserver.HTTPServer(app)
server.add_sockets(sockets)
print(sockets[0].getsockname()[1], flush=True)
tornado.ioloop.IOLoop.current().start()
"""


def _apy_available() -> str | None:
    """Why APy cannot run here, or None."""
    if not Path(SYSTEM_PYTHON).exists() or shutil.which("apertium-apy") is None:
        return "apertium-apy is not installed"
    if not (MODES / "eng-spa.mode").exists():
        return "apertium-eng-spa is not installed"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import apertium_apy.apy, tornado"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        return "apertium_apy is not importable by the system python"
    return None


@pytest.fixture(scope="module")
def apy_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _apy_available()
    if reason:
        pytest.skip(reason)
    workdir = tmp_path_factory.mktemp("apy")
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    out = (workdir / "stdout").open("w+b")
    err = (workdir / "stderr").open("w+b")
    proc = subprocess.Popen(
        [SYSTEM_PYTHON, "-c", LAUNCHER, "-l", str(workdir / "langNames.db"), str(MODES)],
        cwd=workdir, env=env, stdout=out, stderr=err, start_new_session=True)
    try:
        url = _wait_for_apy(proc, workdir / "stdout")
        yield url
    finally:
        # APy and the Apertium pipelines it started share the session we gave it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        out.close()
        err.close()


def _wait_for_apy(proc: subprocess.Popen[bytes], stdout: Path, limit: float = 30.0) -> str:
    deadline = time.monotonic() + limit
    port = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"APy exited with {proc.returncode}: "
                               f"{(stdout.parent / 'stderr').read_text(errors='replace')}")
        port = port or stdout.read_text().strip()
        if port:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/listPairs", timeout=2).status_code == 200:
                    return f"http://127.0.0.1:{port}"
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    raise RuntimeError("APy did not answer /listPairs in time")


@pytest.fixture
def engine(apy_url: str) -> Iterator[ApyEngine]:
    eng = ApyEngine(apy_url, timeout=30.0)
    yield eng
    eng.close()


def _use_count(url: str, pair: str) -> int:
    stats = httpx.get(f"{url}/stats", timeout=5).json()["responseData"]
    return int(stats["useCount"].get(pair, 0))


def test_code_mapping() -> None:
    assert [apertium_code_to_bcp47(c) for c in ("eng", "spa", "cat", "rus", "ukr", "fr",
                                                 "fra", "por", "pt", "cat_valencia",
                                                 "por_BR", "ast")] == [
        "en", "es", "ca", "ru", "uk", "fr", "fr", "pt", "pt", "ca", "pt", "ast"]


def _listeners(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def test_apy_listens_on_loopback_only(apy_url: str) -> None:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to inspect")
    port = int(apy_url.rsplit(":", 1)[1])
    assert _listeners(port) == {"0100007F"}  # 127.0.0.1 only: no 0.0.0.0, no [::]


def test_pairs_are_bcp47(engine: ApyEngine) -> None:
    assert isinstance(engine, Engine)
    pairs = engine.pairs()
    assert {("en", "es"), ("es", "en")} <= pairs
    for installed, pair in (("eng-cat", ("en", "ca")), ("rus-ukr", ("ru", "uk")),
                            ("fr-es", ("fr", "es")), ("es-pt", ("es", "pt"))):
        if (MODES / f"{installed}.mode").exists():
            assert pair in pairs
    assert all(len(code) in (2, 3) and code.isalpha() for pair in pairs for code in pair)
    health = engine.health()
    assert health.ok and f"{len(pairs)} pairs" in health.detail


def test_batch_translation_en_es(engine: ApyEngine, apy_url: str) -> None:
    segments = ["The cat is on the table.", "  Hello world  ", "", "The house is big.",
                "I like the green house."]
    before = _use_count(apy_url, "eng-spa")
    out = engine.translate(segments, "en", "es")
    assert len(out) == len(segments)
    assert all(o.ok for o in out), out
    assert out[2] == Translated("")
    assert out[0].text is not None and "gato" in out[0].text.lower()
    assert out[1].text is not None and out[1].text.startswith("  ")
    assert out[1].text.endswith("  ")
    assert out[3].text is not None and "casa" in out[3].text.lower()
    assert _use_count(apy_url, "eng-spa") == before + 1  # one request for the batch
    # joined, the segments translate exactly as they do one by one
    alone = [engine.translate([s], "en", "es")[0] for s in segments]
    assert alone == out


def test_segment_with_a_blank_line_goes_alone(engine: ApyEngine) -> None:
    out = engine.translate(["The dog.\n\nThe cat.", "The house."], "en", "es")
    assert all(o.ok for o in out)
    assert out[0].text is not None and "\n\n" in out[0].text
    assert "perro" in out[0].text.lower() and "gato" in out[0].text.lower()


def test_concurrent_callers(engine: ApyEngine) -> None:
    inputs = [[f"The cat number {i} is on the table.", "The house is big."] for i in range(4)]
    expected = [engine.translate(x, "en", "es") for x in inputs]
    got: dict[int, list[Translated]] = {}

    def work(i: int) -> None:
        got[i] = engine.translate(inputs[i], "en", "es")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(4)] == expected


def test_unknown_pair_fails_segments(engine: ApyEngine) -> None:
    out = engine.translate(["Hello", "world"], "en", "ja")
    assert [o.ok for o in out] == [False, False]
    assert "not offered" in (out[0].error or "")


# -- canned APy replies: failures a healthy server does not show --------------------------

def _fake_apy(request: RecordedRequest) -> Reply:
    form = parse_qs(request.body.decode("utf-8"))
    q = form["q"][0]
    if "STUCK" in q:
        return Reply(503, body=json.dumps({"status": "error", "code": 503,
                                           "explanation": "internal error"}),
                     content_type="application/json")
    parts = ["" if "BROKEN" in part else part.upper() for part in q.split("\n\n")]
    joiner = " " if "MERGE" in q else "\n\n"  # loses the separators
    body = {"responseData": {"translatedText": joiner.join(parts)}, "responseStatus": 200}
    return Reply(body=json.dumps(body), content_type="application/json")


LIST_PAIRS = Reply(body=json.dumps({"responseData": [
    {"sourceLanguage": "eng", "targetLanguage": "spa"},
    {"sourceLanguage": "eng", "targetLanguage": "cat_valencia"},
    {"sourceLanguage": "eng", "targetLanguage": "cat"},
    {"sourceLanguage": "spa", "targetLanguage": "por_BR"},
]}), content_type="application/json")


@pytest.fixture
def canned() -> Iterator[tuple[LoopbackServer, ApyEngine]]:
    with LoopbackServer({"/listPairs": LIST_PAIRS, "/translate": _fake_apy}) as server:
        eng = ApyEngine(server.base_url)
        yield server, eng
        eng.close()


def _sent(server: LoopbackServer) -> list[dict[str, list[str]]]:
    return [parse_qs(r.body.decode("utf-8")) for r in server.requests("/translate")]


def test_variant_modes_map_to_their_language(canned: tuple[LoopbackServer, ApyEngine]
                                             ) -> None:
    server, eng = canned
    assert eng.pairs() == frozenset({("en", "es"), ("en", "ca"), ("es", "pt")})
    assert eng.translate(["one"], "en", "ca") == [Translated("ONE")]
    [form] = _sent(server)
    assert form["langpair"] == ["eng|cat"]  # the plain mode, not the variant
    assert form["markUnknown"] == ["no"]


def test_empty_output_fails_only_its_segment(canned: tuple[LoopbackServer, ApyEngine]
                                             ) -> None:
    server, eng = canned
    out = eng.translate(["one", "BROKEN two", "three"], "en", "es")
    assert [o.text for o in out] == ["ONE", None, "THREE"]
    assert "empty output" in (out[1].error or "")
    assert [f["q"][0] for f in _sent(server)] == ["one\n\nBROKEN two\n\nthree", "BROKEN two"]


def test_a_failing_batch_is_retried_segment_by_segment(
        canned: tuple[LoopbackServer, ApyEngine]) -> None:
    server, eng = canned
    out = eng.translate(["one", "STUCK four", "five"], "en", "es")
    assert [o.text for o in out] == ["ONE", None, "FIVE"]
    assert "HTTP 503" in (out[1].error or "") and "internal error" in (out[1].error or "")
    assert len(_sent(server)) == 1 + 3


def test_lost_separators_fall_back_to_single_requests(
        canned: tuple[LoopbackServer, ApyEngine]) -> None:
    server, eng = canned
    out = eng.translate(["MERGE one", "two", "three"], "en", "es")
    assert [o.text for o in out] == ["MERGE ONE", "TWO", "THREE"]
    assert len(_sent(server)) == 1 + 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_down() -> None:
    eng = ApyEngine(f"http://127.0.0.1:{_free_port()}", timeout=2.0)
    assert eng.pairs() == frozenset()
    health = eng.health()
    assert not health.ok and "unreachable" in health.detail
    with pytest.raises(EngineError, match="unreachable"):
        eng.translate(["Hello"], "en", "es")
    eng.close()
