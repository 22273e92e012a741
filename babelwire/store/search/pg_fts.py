"""PostgreSQL: a `tsv` column on search_docs, made by the language's text search
configuration (analyze.PG_CONFIGS; 'simple' for the others), with a GIN index."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, text

from babelwire.store.search.analyze import cjk_spaced, pg_config
from babelwire.store.search.documents import Document

DDL = (
    "ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS tsv tsvector NOT NULL "
    "DEFAULT ''::tsvector",
    "CREATE INDEX IF NOT EXISTS ix_search_docs_tsv ON search_docs USING gin (tsv)",
)
# title A, summary B, body D: ts_rank's default weights {0.1, 0.2, 0.4, 1.0}
TSV = ("setweight(to_tsvector(CAST(:cfg AS regconfig), :t), 'A') || "
       "setweight(to_tsvector(CAST(:cfg AS regconfig), :s), 'B') || "
       "setweight(to_tsvector(CAST(:cfg AS regconfig), :b), 'D')")


def create(conn: Connection) -> None:
    for stmt in DDL:
        conn.exec_driver_sql(stmt)


def drop(conn: Connection) -> None:
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_search_docs_tsv")
    conn.exec_driver_sql("ALTER TABLE search_docs DROP COLUMN IF EXISTS tsv")


# Namespace of the transaction-scoped advisory locks that serialise re-indexing per article.
_LOCK_SPACE = 0x6277  # "bw"


def delete(conn: Connection, article_ids: Sequence[int]) -> None:
    """Remove the articles' documents, first locking each article's index entries until
    the transaction ends: two transactions re-indexing one article at once (an on-demand
    translation and the crawler's, say) would otherwise both delete nothing the other can
    see and both insert (a unique violation; found by the soak). Locks are taken in id
    order, so two indexers never deadlock."""
    if article_ids:
        ids = sorted(set(article_ids))
        conn.execute(text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), "
                          "CAST(t.id AS integer)) FROM (SELECT id FROM "
                          "unnest(CAST(:ids AS bigint[])) AS id ORDER BY id) AS t"),
                     {"space": _LOCK_SPACE, "ids": ids})
        conn.execute(text("DELETE FROM search_docs WHERE article_id = ANY(:ids)"),
                     {"ids": ids})


def _text(value: str) -> str:
    return cjk_spaced(value.replace("\x00", " "))  # NUL is not allowed in PostgreSQL text


def insert(conn: Connection, docs: Iterable[Document]) -> int:
    rows = [{"article_id": d.article_id, "language": d.language, "original": d.original,
             "published": d.published, "country": d.country, "source_id": d.source_id,
             "article_language": d.article_language, "cfg": pg_config(d.language),
             "t": _text(d.title), "s": _text(d.summary), "b": _text(d.body)} for d in docs]
    if rows:
        conn.execute(text("INSERT INTO search_docs (article_id, language, original, published,"
                          " country, source_id, article_language, tsv) VALUES (:article_id, "
                          ":language, :original, :published, :country, :source_id, "
                          f":article_language, {TSV})"), rows)
    return len(rows)


def tsquery_sql(n_phrases: int) -> str:
    """The tsquery, from bound parameters only (:cfg, :words, :p0, :p1, ...): plainto and
    phraseto read their text as words, never as tsquery syntax."""
    parts = ["plainto_tsquery(CAST(:cfg AS regconfig), :words)"]
    parts += [f"phraseto_tsquery(CAST(:cfg AS regconfig), :p{i})" for i in range(n_phrases)]
    return " && ".join(parts)
