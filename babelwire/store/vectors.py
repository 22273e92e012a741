"""Article vectors, the statements the index stage runs (the vector index itself is
similar/index.py, kept in step with this table by similar/vectors.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from babelwire.store.models import Article, ArticleVector, Block


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
