"""Settings and shared-data paths for tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from babelwire.config import Settings

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or a clean skip when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": str(tmp_path / "data"),
        "fetch_allow_networks": ("127.0.0.0/8",),
        "fetch_min_delay": 0.0,
        "fetch_retries": 1,
        "fetch_connect_timeout": 3.0,
        "fetch_read_timeout": 3.0,
        "workers": 4,
        "extract_processes": 1,  # in-process; the crash test's child uses the pool
        "translate": False,  # tests of translation turn it on
        # a failed fetch is retried at the next round, as tests of rounds expect;
        # tests/test_crawl_rounds.py tests the retry within a round
        "article_retry_seconds": 0.0,
        "page_cache_seconds": 0.0,  # tests see every change at once; test_web_cache tests it
        # tests search and page in tight loops; test_web_limits tests the bounds
        "client_search_rate": 0.0,
        "client_pages_rate": 0.0,
    }
    values.update(overrides)
    return Settings.load(env={}, **values)
