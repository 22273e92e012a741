"""The `babelwire` command: output formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from babelwire.cli import main


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("BABELWIRE_DATABASE_URL", "BABELWIRE_CATALOG_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BABELWIRE_DATA_DIR", str(tmp_path / "data"))


def _page(newsroom: Any, tmp_path: Path, index: int = 0) -> tuple[Any, Path]:
    art = newsroom.articles()[index]
    path = tmp_path / f"page{index}.html"
    path.write_bytes(httpx.get(art.url).content)
    return art, path


def test_extract_json_one_object_per_file_in_order(newsroom: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    a0, p0 = _page(newsroom, tmp_path, 0)
    a1, p1 = _page(newsroom, tmp_path, 7)
    assert main(["extract", str(p0), str(p1)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) >= {"title", "authors", "published", "language", "canonical_url", "image",
                          "blocks", "text"}
    assert first["title"] == a0.title and second["title"] == a1.title
    assert first["language"] == a0.language.split("-")[0]
    assert first["text"] == "\n\n".join(b["text"] for b in first["blocks"])
    assert all(set(b) == {"type", "text"} for b in first["blocks"])
    assert first["published"] is None or first["published"].startswith(
        a0.published.strftime("%Y-%m-%dT"))


def test_extract_stdin_and_text_format(newsroom: Any, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    art, path = _page(newsroom, tmp_path)
    with open(path, encoding="utf-8") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        assert main(["extract", "--format", "text", "-"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(art.title)
    assert art.paragraphs[1] in out


def test_extract_missing_file_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "/nonexistent/page.html"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().count("\n") == 0 and "page.html" in captured.err
    assert json.loads(captured.out)["error"]


def test_usage_errors_exit_2() -> None:
    for argv in (["crawl", "--bogus"], ["nosuchcommand"], ["sources"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


def test_sources_list_and_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sources", "list", "--country", "RU"]) == 0
    out = capsys.readouterr().out
    assert "moscow-times" in out.lower() or "moscow times" in out.lower()
    assert all(line.startswith("RU ") for line in out.splitlines())
    assert main(["sources", "validate"]) == 0
    assert capsys.readouterr().out.startswith("ok:")
    assert main(["sources", "list", "--country", "XQ"]) == 1
    assert "XQ" in capsys.readouterr().err


def test_sources_opml_export_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sources.opml"
    assert main(["sources", "export-opml", str(out)]) == 0
    assert "<opml" in out.read_text(encoding="utf-8")
    assert main(["sources", "import-opml", str(out)]) == 0
    assert "imported" in capsys.readouterr().out


def test_crawl_unknown_country_and_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl", "--once", "--country", "XQ"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "XQ" in err
    assert main(["crawl", "--once", "--source", "no-such-source"]) == 1
    assert "no-such-source" in capsys.readouterr().err


def test_db_upgrade_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    from babelwire.store.database import head_revision

    assert "sqlite" in out and f"schema at {head_revision()}" in out


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "babelwire", "--db", "nosuchdb://x", "db",
                           "status"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("babelwire:")


def test_import_warc_json_summary_is_the_last_line(newsroom: Any, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.catalog_files import write_catalog
    from tests.test_warc import _build_warc

    monkeypatch.setenv("BABELWIRE_CATALOG_DIR",
                       str(write_catalog(newsroom.sources(), tmp_path / "cat")))
    warc = tmp_path / "a.warc.gz"
    n = _build_warc(warc, newsroom)
    assert main(["import-warc", "--format", "json", str(warc)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["records"] == n + 4 and summary["stored"] == n + 1
    assert summary["duplicates"] == 1 and summary["skipped"] == {"http_status": 1, "not_html": 1}
    assert main(["import-warc", str(tmp_path / "nope.warc.gz")]) == 1


def test_sources_discover_finds_the_demo_feeds(newsroom: Any, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BABELWIRE_FETCH_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("BABELWIRE_FETCH_MIN_DELAY", "0")
    for spec in newsroom.sources()[:3]:
        assert main(["sources", "discover", spec.homepage]) == 0
        out = capsys.readouterr().out
        assert any(line.split("\t")[0] in spec.feeds for line in out.splitlines()), out
    # loopback is refused without the allow list: a clear one-line error
    monkeypatch.delenv("BABELWIRE_FETCH_ALLOW_NETWORKS")
    assert main(["sources", "discover", newsroom.sources()[0].homepage]) == 1
    assert "babelwire:" in capsys.readouterr().err
