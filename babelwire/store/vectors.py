"""Article vectors, the statements the index stage runs (the vector index itself is
similar/index.py, kept in step with this table by similar/vectors.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from babelwire.store.models import READY, Article, ArticleVector, Block, Source


def index_inputs(s: Session, ids: Sequence[int]
                 ) -> tuple[dict[int, Article], dict[int, str], dict[int, list[Block]]]:
    """For a batch to embed: the articles, the model of each one's stored vector, and
    their blocks in order."""
    arts = {a.id: a for a in s.scalars(select(Article).where(Article.id.in_(list(ids))))}
    have = {v.article_id: v.model for v in s.scalars(
        select(ArticleVector).where(ArticleVector.article_id.in_(list(ids))))}
    blocks: dict[int, list[Block]] = {}
    for b in s.scalars(select(Block).where(Block.article_id.in_(list(ids)))
                       .order_by(Block.article_id, Block.position)):
        blocks.setdefault(b.article_id, []).append(b)
    return arts, have, blocks


def replace(s: Session, article: Article, *, model: str, vector: bytes, now: datetime) -> None:
    assert article.published_at is not None
    s.execute(delete(ArticleVector).where(ArticleVector.article_id == article.id))
    s.add(ArticleVector(article_id=article.id, model=model, vector=vector,
                        published_at=article.published_at, created_at=now))


def stories_of(s: Session, ids: Sequence[int]) -> dict[int, int | None]:
    return {aid: story for aid, story in s.execute(
        select(Article.id, Article.story_id).where(Article.id.in_(list(ids))))}


def stored_vector(s: Session, article_id: int, model: str) -> bytes | None:
    return s.scalar(select(ArticleVector.vector).where(ArticleVector.article_id == article_id,
                                                       ArticleVector.model == model))


def neighbour_origin(s: Session, article_id: int) -> Any:
    """(published, source, country, language) of the article similar news is asked for."""
    return s.execute(select(Article.published_at, Article.source_id, Article.country,
                            Article.language).where(Article.id == article_id)).first()


def shown_candidates(s: Session, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """id -> (id, source, country, language) of those articles a reader may see."""
    from babelwire.store.reader import publisher_shown

    # looked up by primary key, the status checked here: given "status = 'ready'" in SQL,
    # SQLite seeks the status index instead, ~3x slower at 1M articles
    return {r[0]: tuple(r[:4]) for r in s.execute(
        select(Article.id, Article.source_id, Article.country, Article.language,
               Article.status)
        .join(Source, Article.source_id == Source.id, isouter=True)
        .where(Article.id.in_(list(ids)), publisher_shown())) if r[4] == READY}
