"""Stories, the writing side: the statements story assignment and merging run (the
clustering algorithm itself is similar/cluster.py; pages read stories in stories.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from babelwire.store.models import READY, Article, Story

# any constant: the key of PostgreSQL's transaction-level advisory lock on story assignment
STORY_LOCK_KEY = 0x62776C73  # "bwls"


def lock_assignment(s: Session) -> None:
    """PostgreSQL: serialise story assignment across processes until this transaction
    ends (SQLite has one writer at a time anyway)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK_KEY})


def get(s: Session, story_id: int) -> Story | None:
    return s.get(Story, story_id)


def stories_of_ready(s: Session, article_ids: Iterable[int]) -> set[int]:
    """The stories of those of the articles that are READY."""
    # status checked here: in SQL it sends SQLite down the status index (see member_rows)
    return {story for story, status in s.execute(
        select(Article.story_id, Article.status).where(Article.id.in_(list(article_ids))))
        if story is not None and status == READY}


def load(s: Session, story_ids: Iterable[int]) -> list[Story]:
    return list(s.scalars(select(Story).where(Story.id.in_(list(story_ids)))))


def new(s: Session, *, now: datetime, centroid: bytes, model: str) -> Story:
    story = Story(created_at=now, updated_at=now, centroid=centroid, model=model)
    s.add(story)
    s.flush()
    return story


def adopt_copies(s: Session, article_id: int, story_id: int) -> None:
    """An article's wire copies, stored before it had a story, join its story."""
    s.execute(update(Article).where(Article.duplicate_of == article_id)
              .values(story_id=story_id))
    s.flush()


def embedded_count(s: Session, story_id: int) -> int:
    return s.scalar(select(func.count()).where(Article.story_id == story_id,
                                               Article.status == READY)) or 0


def move_members(s: Session, gone_id: int, keep_id: int) -> None:
    """Every member of one story, and every story merged into it, to another."""
    s.execute(update(Article).where(Article.story_id == gone_id).values(story_id=keep_id))
    s.execute(update(Story).where(Story.merged_into == gone_id).values(merged_into=keep_id))


def member_rows(s: Session, story_id: int) -> list[Any]:
    """(id, status, source, country, language, published) of a story's articles.

    One query by story id, filtered by the caller: filtering by status in SQL lets a
    planner prefer the status index, which nearly every article matches."""
    return list(s.execute(
        select(Article.id, Article.status, Article.source_id, Article.country,
               Article.language, Article.published_at).where(Article.story_id == story_id)))


def story_of(s: Session, article_id: int) -> int | None:
    return s.scalar(select(Article.story_id).where(Article.id == article_id))
