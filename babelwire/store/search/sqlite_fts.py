"""SQLite: an FTS5 table of pre-stemmed text (analyze.py), rowid = search_docs.id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, bindparam, text

from babelwire.store.search.analyze import stem_words, stems
from babelwire.store.search.documents import Document
from babelwire.store.search.parse import ParsedQuery

# Letters, digits and marks are token characters (Devanagari's vowel signs are marks);
# the text comes stemmed and folded, so the tokenizer only splits it.
DDL = ("CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, summary, body, "
       "tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* Co M*'\")")
WEIGHTS = (8.0, 3.0, 1.0)  # bm25 weights of title, summary, body


def create(conn: Connection) -> None:
    conn.exec_driver_sql(DDL)


def drop(conn: Connection) -> None:
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")


def delete(conn: Connection, article_ids: Sequence[int]) -> None:
    if not article_ids:
        return
    ids = list(article_ids)
    conn.execute(text("DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_docs "
                      "WHERE article_id IN :ids)").bindparams(bindparam("ids", expanding=True)),
                 {"ids": ids})
    conn.execute(text("DELETE FROM search_docs WHERE article_id IN :ids")
                 .bindparams(bindparam("ids", expanding=True)), {"ids": ids})


def insert(conn: Connection, docs: Iterable[Document]) -> int:
    """Index documents (their articles' old ones deleted first, in this transaction: the
    write lock is held, so the ids taken here are free)."""
    batch = list(docs)
    if not batch:
        return 0
    first = (conn.execute(text("SELECT max(id) FROM search_docs")).scalar() or 0) + 1
    rows, fts = [], []
    for i, d in enumerate(batch, start=first):
        rows.append({"id": i, "article_id": d.article_id, "language": d.language,
                     "original": d.original, "published": d.published, "country": d.country,
                     "source_id": d.source_id, "article_language": d.article_language})
        fts.append({"id": i, "t": " ".join(stems(d.title, d.language)),
                    "s": " ".join(stems(d.summary, d.language)),
                    "b": " ".join(stems(d.body, d.language))})
    conn.execute(text("INSERT INTO search_docs (id, article_id, language, original, published,"
                      " country, source_id, article_language) VALUES (:id, :article_id, "
                      ":language, :original, :published, :country, :source_id, "
                      ":article_language)"), rows)
    conn.execute(text("INSERT INTO search_fts (rowid, title, summary, body) "
                      "VALUES (:id, :t, :s, :b)"), fts)
    return len(batch)


def _quoted(tokens: Iterable[str]) -> str:
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def match_expression(query: ParsedQuery, language: str) -> str | None:
    """The FTS5 expression: every word and phrase, each a quoted string of stems (FTS5 reads
    nothing inside a string as an operator). None when no word leaves a token."""
    parts = [_quoted([t]) for t in dict.fromkeys(stem_words(list(query.terms), language)) if t]
    parts += [_quoted(stem_words(list(p), language)) for p in query.phrases]
    return " AND ".join(parts) if parts else None


def optimize(conn: Connection) -> None:
    conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
