"""What the sitemaps list: visible articles by id range, read in batches with Core (the
primary key's range, never the status index: SQLite would walk every READY row)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, func, select

from babelwire.store.models import READY, Article, Source

BATCH = 5000


def max_article_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.max(Article.id))) or 0)


def visible_in_range(engine: Engine, first: int, last: int
                     ) -> Iterator[tuple[int, datetime | None]]:
    """(id, published) of the visible articles with first <= id <= last, in id order, one
    short read per BATCH ids (no transaction held while the caller writes them out)."""
    lo = first
    while lo <= last:
        hi = min(last, lo + BATCH - 1)
        with engine.connect() as conn:
            rows = conn.execute(
                select(Article.id, Article.status, Article.published_at, Source.opt_out)
                .join(Source, Article.source_id == Source.id, isouter=True)
                .where(Article.id >= lo, Article.id <= hi).order_by(Article.id)).all()
        for aid, status, published, opt_out in rows:
            if status == READY and not opt_out:
                yield aid, published
        lo = hi + 1
