"""Articles translated through the pipeline with real Apertium: the ingest-time policy,
provenance, staleness, the translation memory and pivots."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from babelwire.catalog.loader import catalog_from_specs
from babelwire.context import Context
from babelwire.ingest.crawl import crawl_once
from babelwire.store.models import READY, Article, Block, Translation
from babelwire.translate import apertium
from babelwire.translate.articles import is_current, translate_article
from tests.support.factories import make_settings

pytestmark = pytest.mark.skipif(not apertium.available(), reason="Apertium is not installed")


@pytest.fixture
def ctx(tmp_path: Path, store_url: str, newsroom: Any) -> Iterator[Context]:
    settings = make_settings(tmp_path, database_url=store_url, translate=True,
                             engines=("apertium",), reader_languages=("en", "es", "ca", "de"),
                             translate_eager_languages=("en",))
    context = Context.open(settings, catalog=catalog_from_specs(newsroom.sources()))
    yield context
    context.close()


def _article(ctx: Context, site: str, language: str) -> Article:
    with ctx.db.session() as s:
        art = s.scalar(select(Article).where(Article.source_id == site,
                                             Article.status == READY,
                                             Article.language == language)
                       .order_by(Article.id).limit(1))
    assert art is not None
    return art


def test_crawl_translates_headlines_and_eager_full_text(ctx: Context) -> None:
    stats = asyncio.run(crawl_once(ctx))
    assert stats.translations["done"] > 0
    spanish = _article(ctx, "cronica-del-tajo", "es")
    with ctx.db.session() as s:
        rows = {t.language: t for t in s.scalars(select(Translation).where(
            Translation.article_id == spanish.id))}
        blocks = list(s.scalars(select(Block).where(Block.article_id == spanish.id)
                                .order_by(Block.position)))
    assert "es" not in rows  # never "translated" into its own language
    assert "de" not in rows  # no engine gives es→de: nothing pretends otherwise
    full = rows["en"]
    assert full.scope == "full" and full.path == ["es", "en"]
    assert full.engines and full.engines[0].startswith("apertium")
    # one translated block per block of article text, in order; the publisher's notices
    # (its newsletter box, learned as boilerplate) are not article text and stay untranslated
    text = [b for b in blocks if b.role == "text"]
    assert len(full.blocks) == len(text) and len(text) >= 3
    assert [b["type"] for b in full.blocks] == [b.type for b in text]
    assert full.title and full.title != spanish.title
    assert full.source_hash and full.created_at is not None
    catalan = rows["ca"]  # es→ca goes through English: a pivot
    assert catalan.scope == "headline" and catalan.path == ["es", "ca"]  # spa-cat, direct
    assert catalan.title and catalan.blocks == []


def test_translation_is_idempotent_and_redone_when_the_source_changes(ctx: Context) -> None:
    asyncio.run(crawl_once(ctx))
    art = _article(ctx, "harbour-gazette", "en")
    first = translate_article(ctx, art.id, "es")
    assert first.status == "done"
    again = translate_article(ctx, art.id, "es")
    assert again.status == "unchanged"
    assert is_current(ctx, art.id, "es")
    with ctx.db.session() as s:  # the publisher corrects a paragraph
        block = s.scalar(select(Block).where(Block.article_id == art.id, Block.position == 0))
        assert block is not None
        block.text = block.text + " The council later corrected the figures."
    assert not is_current(ctx, art.id, "es")
    redone = translate_article(ctx, art.id, "es")
    assert redone.status == "done"
    assert is_current(ctx, art.id, "es")
    with ctx.db.session() as s:
        row = s.scalar(select(Translation).where(Translation.article_id == art.id,
                                                 Translation.language == "es"))
    assert row is not None and row.memory_hits > 0  # unchanged sentences came from memory


def test_no_route_and_same_language(ctx: Context) -> None:
    asyncio.run(crawl_once(ctx))
    russian = _article(ctx, "novaya-sloboda", "ru")
    res = translate_article(ctx, russian.id, "de")
    assert res.status == "no_route" and res.detail and "available routes" in res.detail
    assert translate_article(ctx, russian.id, "ru").status == "same_language"


def test_two_writers_translating_one_article_at_once(ctx: Context) -> None:
    """An on-demand translation beside the crawler's (found by the soak: the second insert
    failed on the unique (article, language) key and the reader got an error). The real
    translator, wrapped so that both callers finish translating before either writes."""
    import threading

    asyncio.run(crawl_once(ctx))
    arts = [_article(ctx, site, "en") for site in ("harbour-gazette",)]
    real = ctx.translator
    barrier = threading.Barrier(2)

    class BothTranslateFirst:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def translate(self, *args: Any, **kwargs: Any) -> Any:
            run = real.translate(*args, **kwargs)
            barrier.wait(30)  # both have found no translation and made one
            return run

    ctx._translator = BothTranslateFirst()  # type: ignore[assignment]
    try:
        for art in arts:
            for lang in ("es", "ca"):
                with ctx.db.session() as s:
                    for row in s.scalars(select(Translation).where(
                            Translation.article_id == art.id, Translation.language == lang)):
                        s.delete(row)
                results: list[Any] = []
                errors: list[BaseException] = []

                def work(art_id: int = art.id, lang: str = lang, results: list[Any] = results,
                         errors: list[BaseException] = errors) -> None:
                    try:
                        results.append(translate_article(ctx, art_id, lang))
                    except BaseException as exc:
                        errors.append(exc)

                threads = [threading.Thread(target=work) for _ in range(2)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
                assert errors == [], errors
                assert sorted(r.status for r in results) in (["done", "done"],
                                                             ["done", "unchanged"])
                with ctx.db.session() as s:
                    rows = list(s.scalars(select(Translation).where(
                        Translation.article_id == art.id, Translation.language == lang)))
                assert len(rows) == 1 and rows[0].title
    finally:
        ctx._translator = real
