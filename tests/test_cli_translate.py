"""`babelwire translate`, `engines` and `models` from the command line, on real engines.

The Argos model used here is the tiny random-weight model that tests/support/tinymodel.py
builds: its output is meaningless; these tests check the plumbing (install, list, route,
one output line per input line), not translation quality.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ctranslate2")


def _run(args: list[str], stdin: str, env_dir: Path,
         **env: str) -> subprocess.CompletedProcess[str]:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("BABELWIRE_")}
    environ.update({"BABELWIRE_DATA_DIR": str(env_dir), **env})
    return subprocess.run([sys.executable, "-m", "babelwire", *args], input=stdin,
                          capture_output=True, text=True, env=environ, timeout=300)


def test_models_install_list_and_translate_with_argos(tmp_path: Path) -> None:
    from tests.support.tinymodel import build_package

    package = build_package(tmp_path / "en_xx.argosmodel", from_code="en", to_code="eo")
    res = _run(["models", "install", str(package)], "", tmp_path)
    assert res.returncode == 0, res.stderr
    assert "installed en→eo" in res.stdout
    listed = _run(["models", "list"], "", tmp_path)
    assert listed.stdout.startswith("en→eo")
    lines = "Hello world.\n\nThe second line.\n"
    out = _run(["translate", "-s", "en", "-t", "eo", "--engine", "argos", "--format", "json"],
               lines, tmp_path, BABELWIRE_ENGINES="argos")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[1] == {"text": "", "engine": "argos", "path": ["en", "eo"], "flagged": False}
    assert all(r["engine"] == "argos" and r["path"] == ["en", "eo"] for r in rows)
    assert rows[0]["text"] and rows[2]["text"]
    engines = _run(["engines"], "", tmp_path, BABELWIRE_ENGINES="argos")
    assert "argos" in engines.stdout and "en→eo" in engines.stdout
    removed = _run(["models", "remove", "en", "eo"], "", tmp_path)
    assert removed.returncode == 0 and "removed 1" in removed.stdout


def test_translate_exit_codes(tmp_path: Path) -> None:
    bad = _run(["translate", "-s", "english", "-t", "es"], "x\n", tmp_path)
    assert bad.returncode == 2 and "language code" in bad.stderr
    bad_engine = _run(["translate", "-s", "en", "-t", "es", "--engine", "google"], "x\n",
                      tmp_path)
    assert bad_engine.returncode == 2
    no_route = _run(["translate", "-s", "ja", "-t", "ko"], "x\n", tmp_path,
                    BABELWIRE_ENGINES="argos")
    assert no_route.returncode == 3
    assert "no translation route" in no_route.stderr and "available routes" in no_route.stderr
    corrupt = tmp_path / "bad.argosmodel"
    corrupt.write_bytes(b"not a zip")
    res = _run(["models", "install", str(corrupt)], "", tmp_path)
    assert res.returncode == 1 and res.stderr.startswith("babelwire:")


def test_engines_says_which_readers_have_no_route_and_how_to_add_them(tmp_path: Path) -> None:
    """With Apertium alone (every Debian pair): German and Polish readers get no route, the
    Romance languages reach each other, and both formats name the one command that helps."""
    res = _run(["engines", "--format", "json"], "", tmp_path, BABELWIRE_ENGINES="apertium")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {"de", "pl"} <= set(data["unserved_readers"])
    assert "babelwire models install --for" in data["install_hint"]
    assert "de" in data["install_hint"]
    cells = {(c["source"], c["target"]): c for c in data["reach"]}
    assert cells[("ro", "es")]["routed"] and cells[("ro", "es")]["measured"]
    assert cells[("it", "es")]["routed"] and cells[("it", "es")]["chrf"] >= 30
    assert not cells[("ja", "de")]["routed"] and cells[("ja", "de")]["path"] is None
    assert all(c["chrf"] is None or c["routed"] == (c["chrf"] >= data["min_chrf"])
               for c in data["reach"])
    pairs = {(p["source"], p["target"]) for p in data["pairs"]}
    assert ("en", "es") in pairs and ("sr", "en") in pairs
    text = _run(["engines"], "", tmp_path, BABELWIRE_ENGINES="apertium")
    assert text.returncode == 0, text.stderr
    assert "reader languages no other catalogue language reaches: de, pl" in text.stdout
    assert "babelwire models install --for de,pl" in text.stdout
