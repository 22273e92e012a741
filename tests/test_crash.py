"""A crawl killed with SIGKILL mid-way and restarted: no duplicate, no lost article, no
half-written record. Runs the real `babelwire crawl --once` in a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from babelwire.ingest import dedup
from babelwire.store.database import Database
from babelwire.store.models import DUPLICATE, READY, Article, Block, Page
from tests.support.catalog_files import write_catalog


def _env(tmp_path: Path, db_url: str, catalog_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BABELWIRE_")}
    env.update({
        "BABELWIRE_DATABASE_URL": db_url,
        "BABELWIRE_DATA_DIR": str(tmp_path / "data"),
        "BABELWIRE_CATALOG_DIR": str(catalog_dir),
        "BABELWIRE_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        # slow enough that the kill lands in the middle of the crawl
        "BABELWIRE_FETCH_MIN_DELAY": "0.15",
        "BABELWIRE_WORKERS": "3",
        "BABELWIRE_TRANSLATE": "0",  # this test is about ingestion
    })
    return env


def _crawl(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "babelwire.cli", "crawl", "--once"],
                                env=env, stdout=out, stderr=out)


def _ready_count(db: Database) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(Article)
                        .where(Article.status == READY)) or 0


@pytest.mark.slow
def test_sigkill_mid_crawl_then_restart(tmp_path: Path, store_url: str, newsroom: Any) -> None:
    catalog_dir = write_catalog(newsroom.sources(), tmp_path / "catalog")
    env = _env(tmp_path, store_url, catalog_dir)
    db = Database(store_url)
    kills = 0
    log = tmp_path / "crawl.log"
    for threshold in (5, 20):  # kill twice, at different points
        proc = _crawl(env, log)
        deadline = time.monotonic() + 120
        while _ready_count(db) < threshold and proc.poll() is None:
            assert time.monotonic() < deadline, "crawl made no progress"
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    assert kills >= 1, "the crawl finished before it could be killed"
    proc = _crawl(env, log)
    assert proc.wait(timeout=300) == 0, log.read_text()

    demo = newsroom.articles()
    with db.session() as s:
        rows = list(s.scalars(select(Article)))
        keys = [a.url_key for a in rows]
        assert len(keys) == len(set(keys)), "an article was recorded twice"
        by_key = {a.url_key: a for a in rows}
        for item in demo:
            art = by_key.get(dedup.url_key(dedup.canonicalize_url(item.url)))
            assert art is not None, f"lost after the kill: {item.url}"
            assert art.status in (READY, DUPLICATE), (item.url, art.status, art.error_message)
        for art in rows:
            if art.status == READY:  # complete: blocks, page, text all there
                n_blocks = s.scalar(select(func.count()).select_from(Block)
                                    .where(Block.article_id == art.id))
                assert n_blocks and n_blocks > 0, art.url
                assert s.get(Page, art.id) is not None
                assert art.title and art.content_hash
        ready_hashes = [a.content_hash for a in rows if a.status == READY]
        assert len(ready_hashes) == len(set(ready_hashes)), "the same text stored twice"
    db.dispose()
