"""Every real article is stored: the 258 fundus test pages (41 countries, 26 languages)
imported as one WARC through the real pipeline. Every page must end up stored except the
genuine non-articles listed here with their reasons (none today), and the same URL twice
counts once. Prints stored/dropped per language."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from babelwire.context import Context
from babelwire.ingest import dedup
from babelwire.ingest.warc import import_warc
from babelwire.store.models import READY, Article
from tests.support.factories import make_settings, shared_data
from tests.support.fundus_warc import fundus_entries, per_language, write_fundus_warc

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

# publisher/file -> the reason it is not an article (empty: every fundus page is one)
NOT_ARTICLES: dict[str, str] = {}


def test_every_fundus_page_is_stored(tmp_path: Path) -> None:
    entries = fundus_entries(shared_data("fundus-parser-testdata"))
    assert len(entries) >= 250
    warc = tmp_path / "fundus.warc.gz"
    write_fundus_warc(entries, warc)
    ctx = Context.open(make_settings(tmp_path, database_url=f"sqlite:///{tmp_path}/bw.db"))
    try:
        summary = asyncio.run(import_warc(ctx, [warc]))
        with ctx.db.session() as s:
            by_key = {a.url_key: a for a in s.scalars(select(Article))}
    finally:
        ctx.close()
    rows: list[tuple[str, str]] = []
    dropped: dict[str, str] = {}
    for e in entries:
        art = by_key[dedup.url_key(dedup.canonicalize_url(e.url))]
        rows.append((e.language, art.status))
        if art.status != READY:
            dropped[e.path.name] = f"{art.error_reason}: {art.error_message}"
    table = per_language(rows)
    print("\n" + "\n".join(f"{lang:4} " + " ".join(f"{k} {v}" for k, v in sorted(c.items()))
                           for lang, c in table.items()))
    assert dropped == NOT_ARTICLES
    urls = {e.url for e in entries}
    assert summary.records == len(entries)
    assert summary.stored == len(urls) - len(NOT_ARTICLES)
    assert summary.duplicates == len(entries) - len(urls)  # taz.de twice in the index
    for lang in ("ja", "zh", "ko"):
        assert table[lang].get(READY, 0) == sum(table[lang].values()), lang
