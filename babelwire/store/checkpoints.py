"""WARC import checkpoints: how far an unfinished import has got in each file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from babelwire.store.models import PENDING, Article, WarcCheckpoint


@dataclass(frozen=True, slots=True)
class Mark:
    """Every record before byte ``offset`` is done: ``records`` response-like records."""
    offset: int
    records: int


def load(session: Session, file_key: str) -> Mark | None:
    row = session.get(WarcCheckpoint, file_key)
    return None if row is None else Mark(row.offset, row.records)


def save(session: Session, file_key: str, path: str, mark: Mark) -> None:
    row = session.get(WarcCheckpoint, file_key)
    if row is None:
        row = WarcCheckpoint(file_key=file_key)
        session.add(row)
    row.path, row.offset, row.records = path, mark.offset, mark.records
    row.updated_at = datetime.now(UTC)


def remove(session: Session, file_keys: Sequence[str]) -> None:
    if file_keys:
        session.execute(delete(WarcCheckpoint).where(WarcCheckpoint.file_key.in_(file_keys)))


def still_pending(session: Session, article_ids: Sequence[int]) -> set[int]:
    """Those of the articles whose ingest has not ended (still PENDING)."""
    if not article_ids:
        return set()
    return set(session.scalars(select(Article.id).where(Article.id.in_(list(article_ids)),
                                                        Article.status == PENDING)))
