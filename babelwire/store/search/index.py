"""Keeping the search index current: in the transaction that changes what it indexes.

`track(sessionmaker)` watches every session it makes: an Article whose searchable fields
changed, a Translation or a Block written through the ORM marks its article; before the
transaction commits, the marked articles' documents are rebuilt in it (a crash leaves the
article and its index both old or both new). `reindex` rebuilds everything (after an
analyzer or stemmer change: `babelwire db reindex-search`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, Engine, event, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from babelwire.store.models import Article, Block, Translation
from babelwire.store.search import pg_fts, sqlite_fts
from babelwire.store.search.documents import documents

PENDING_KEY = "babelwire.search.pending"
# an Article change in one of these reaches the index
ARTICLE_FIELDS = ("status", "title", "description", "language", "published_at",
                  "country", "source_id", "fetched_at")


def backend(conn: Connection | Engine) -> ModuleType:
    return pg_fts if conn.dialect.name == "postgresql" else sqlite_fts


def index_articles(conn: Connection, article_ids: Sequence[int]) -> int:
    """Rebuild the documents of these articles (none for an article that is not READY);
    returns how many documents were written."""
    be = backend(conn)
    ids = sorted(set(article_ids))
    be.delete(conn, ids)
    return int(be.insert(conn, documents(conn, ids)))


def _changed(obj: object) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in ARTICLE_FIELDS)


def _after_flush(session: Session, _context: Any) -> None:
    pending: set[int] = session.info.setdefault(PENDING_KEY, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Article):
            touched = obj in session.new or obj in session.deleted or _changed(obj)
            if touched and obj.id is not None:
                pending.add(obj.id)
        elif isinstance(obj, Translation | Block) and obj.article_id is not None:
            pending.add(obj.article_id)


def _before_commit(session: Session) -> None:
    session.flush()
    pending: set[int] = session.info.pop(PENDING_KEY, set())
    if pending:
        index_articles(session.connection(), sorted(pending))


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(PENDING_KEY, None)


def track(factory: sessionmaker[Session]) -> None:
    """Index, in the same transaction, what sessions from `factory` change."""
    event.listen(factory, "after_flush", _after_flush)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_rollback", _forget)


def build(conn: Connection, *, batch: int = 2000, after: int = 0,
          progress: Callable[[int, int], None] | None = None) -> int:
    """Index every READY article with an id above `after` on this connection (the caller
    owns the transaction: a migration builds it in its own); returns the documents."""
    done, last = 0, after
    while True:
        # by primary key alone: documents() keeps the READY ones
        ids = list(conn.scalars(select(Article.id).where(Article.id > last)
                                .order_by(Article.id).limit(batch)))
        if not ids:
            return done
        done += backend(conn).insert(conn, documents(conn, ids))
        last = ids[-1]
        if progress is not None:
            progress(last, done)


def reset(conn: Connection) -> None:
    be = backend(conn)
    be.drop(conn)
    conn.execute(text("DELETE FROM search_docs"))
    be.create(conn)


def finish(conn: Connection) -> None:
    """Merge SQLite's FTS segments; refresh PostgreSQL's statistics."""
    if conn.dialect.name == "sqlite":
        sqlite_fts.optimize(conn)
    else:
        conn.exec_driver_sql("ANALYZE search_docs")


def reindex(engine: Engine, *, batch: int = 2000,
            progress: Callable[[int, int], None] | None = None) -> int:
    """Drop and rebuild the whole index, `batch` articles per transaction; returns the
    number of documents. Readers searching meanwhile see a partial index."""
    with engine.begin() as conn:
        reset(conn)
    done = last = 0
    while True:
        with engine.begin() as conn:
            ids = list(conn.scalars(select(Article.id).where(Article.id > last)
                                    .order_by(Article.id).limit(batch)))
            if not ids:
                break
            done += backend(conn).insert(conn, documents(conn, ids))
        last = ids[-1]
        if progress is not None:
            progress(last, done)
    with engine.begin() as conn:
        finish(conn)
    return done
